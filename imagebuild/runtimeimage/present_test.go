package runtimeimage

import (
	"io/fs"
	"testing"
)

func TestPycSource(t *testing.T) {
	for p, want := range map[string]string{
		"/opt/app-root/lib/python3.11/site-packages/pip/__pycache__/__init__.cpython-311.pyc": "/opt/app-root/lib/python3.11/site-packages/pip/__init__.py",
		"pkg/__pycache__/mod.cpython-311.opt-1.pyc":                                           "pkg/mod.py",
		"pkg/__pycache__/mod.v2.cpython-311.pyc":                                              "pkg/mod.v2.py",
		"pkg/__pycache__/mod.pyc":                                                             "",
		"pkg/mod.cpython-311.pyc":                                                             "",
		"pkg/__pycache__/mod.cpython-311.py":                                                  "",
		"__pycache__/x.cpython-311.pyc":                                                       "x.py",
	} {
		got, ok := PycSource(p)
		if got != want || ok != (want != "") {
			t.Errorf("PycSource(%q) = %q, %v; want %q", p, got, ok, want)
		}
	}
}

func TestSameKind(t *testing.T) {
	file := FileFacts{Mode: 0o664, UID: 1001, GID: 0, Size: 10}
	link := FileFacts{Mode: fs.ModeSymlink | 0o777, UID: 1001, Target: "python3"}
	tests := []struct {
		name string
		a, b FileFacts
		want bool
	}{
		{"same file", file, file, true},
		{"other mode", file, FileFacts{Mode: 0o644, UID: 1001, Size: 10}, false},
		{"other owner", file, FileFacts{Mode: 0o664, UID: 0, Size: 10}, false},
		{"other group", file, FileFacts{Mode: 0o664, UID: 1001, GID: 1001, Size: 10}, false},
		{"other size", file, FileFacts{Mode: 0o664, UID: 1001, Size: 11}, false},
		{"same symlink", link, link, true},
		{"other target", link, FileFacts{Mode: fs.ModeSymlink | 0o777, UID: 1001, Target: "python"}, false},
		{"file and symlink", file, link, false},
		{"directories are never left out", FileFacts{Mode: fs.ModeDir | 0o775}, FileFacts{Mode: fs.ModeDir | 0o775}, false},
	}
	for _, tt := range tests {
		if got := SameKind(tt.a, tt.b); got != tt.want {
			t.Errorf("%s: SameKind = %v, want %v", tt.name, got, tt.want)
		}
	}
}
