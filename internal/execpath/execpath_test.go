package execpath

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	other := filepath.Join(dir, "other")
	for _, d := range []string{bin, other, filepath.Join(bin, "subdir")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, mode := range map[string]os.FileMode{"bin/tool": 0o755, "bin/data": 0o644, "other/tool": 0o755, "other/data": 0o755} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, file string
		env        []string
		dir        string
		want       string
		ok         bool
	}{
		{"first entry wins", "tool", []string{"PATH=" + bin + ":" + other}, "/", filepath.Join(bin, "tool"), true},
		{"not executable: the next entry", "data", []string{"PATH=" + bin + ":" + other}, "/", filepath.Join(other, "data"), true},
		{"not executable anywhere", "data", []string{"PATH=" + bin}, "/", "", false},
		{"a directory is not a command", "subdir", []string{"PATH=" + bin}, "/", "", false},
		{"relative entry against dir", "tool", []string{"PATH=bin"}, dir, filepath.Join(bin, "tool"), true},
		{"empty entry is dir", "tool", []string{"PATH=:/nonexistent"}, bin, filepath.Join(bin, "tool"), true},
		{"the last PATH= (envlist's rule, os/exec's)", "tool", []string{"PATH=" + other, "PATH=" + bin}, "/", filepath.Join(bin, "tool"), true},
		{"no PATH", "tool", []string{"HOME=/"}, "/", "", false},
		{"a slash: as is", "./x.sh", nil, "/", "./x.sh", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Find(tt.file, tt.env, tt.dir)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Find(%q, %v, %q) = %q, %v; want %q, %v", tt.file, tt.env, tt.dir, got, ok, tt.want, tt.ok)
			}
		})
	}
}
