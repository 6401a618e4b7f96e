package builder

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestParseCompilers(t *testing.T) {
	tests := []struct {
		out, cc, cxx string
		ok           bool
	}{
		{"x86_64-linux-gnu-gcc\nx86_64-linux-gnu-g++\n", "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-g++", true},
		{"gcc -pthread\n\n", "gcc -pthread", "", true},
		{"\n\n", "", "", true},
		{"gcc\n", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		cc, cxx, err := parseCompilers(tt.out)
		if cc != tt.cc || cxx != tt.cxx || (err == nil) != tt.ok {
			t.Errorf("parseCompilers(%q) = %q, %q, %v", tt.out, cc, cxx, err)
		}
	}
}

// A real python answers with its build's compilers (Debian's python3:
// x86_64-linux-gnu-gcc or the like).
func TestCompilersRealPython(t *testing.T) {
	bin := t.TempDir()
	if err := os.Symlink("/usr/bin/python3", filepath.Join(bin, "python")); err != nil {
		t.Fatal(err)
	}
	x := &Exec{Env: []string{"PATH=" + bin}}
	cc, _, err := x.Compilers(context.Background())
	if err != nil || cc == "" {
		t.Fatalf("Compilers = %q, %v", cc, err)
	}
	x.Env = []string{"PATH=" + t.TempDir()}
	if _, _, err := x.Compilers(context.Background()); err == nil {
		t.Error("no python: no error")
	}
}
