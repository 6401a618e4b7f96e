package builder

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestHashedPins(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
		ok         bool
	}{
		{"pip-compile output", "# header\nflask==2.2.2 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via -r requirements.in\nsix==1.16.0 --hash=sha256:cc  # comment\n",
			[]string{"flask==2.2.2      --hash=sha256:aa      --hash=sha256:bb", "six==1.16.0 --hash=sha256:cc"}, true},
		{"markers", "colorama==0.4.6 ; sys_platform == \"win32\" --hash=sha256:aa\n", []string{"colorama==0.4.6 ; sys_platform == \"win32\" --hash=sha256:aa"}, true},
		{"an unhashed line", "flask==2.2.2 --hash=sha256:aa\nsix==1.16.0\n", nil, false},
		{"not pinned", "flask>=2 --hash=sha256:aa\n", nil, false},
		{"an option", "--index-url https://u:p@x/simple\nflask==2.2.2 --hash=sha256:aa\n", nil, false},
		{"a URL", "demo @ https://x/demo-1.0.tar.gz --hash=sha256:aa\n", nil, false},
		{"a variable", "flask==${V} --hash=sha256:aa\n", nil, false},
		{"empty", "# nothing\n", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "requirements.txt")
			if err := os.WriteFile(p, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, ok := hashedPins(p)
			if ok != tt.ok || (ok && !reflect.DeepEqual(got, tt.want)) {
				t.Errorf("got %q, %v", got, ok)
			}
		})
	}
}

func TestPipInterpreter(t *testing.T) {
	dir := t.TempDir()
	long := "/opt/a path with spaces/bin/python3"
	tests := []struct{ script, want string }{
		{"#!/opt/app-root/bin/python3\n# -*- coding: utf-8 -*-\n", "/opt/app-root/bin/python3"},
		{"#!/bin/sh\n'''exec' /opt/app-root/bin/python3.11 \"$0\" \"$@\"\n' '''\n", "/opt/app-root/bin/python3.11"},
		{"#!/bin/sh\n'''exec' " + long + " \"$0\" \"$@\"\n' '''\n", ""},
		{"#!/usr/bin/env python3\n", ""},
	}
	for _, tt := range tests {
		if err := os.WriteFile(filepath.Join(dir, "pip"), []byte(tt.script), 0o755); err != nil {
			t.Fatal(err)
		}
		got, err := pipInterpreter([]string{"PATH=" + dir})
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("%q: got %q, %v", tt.script, got, err)
		}
	}
}
