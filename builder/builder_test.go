package builder

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/pys2i/pys2i/internal/envlist"
)

func TestLineWriter(t *testing.T) {
	var out bytes.Buffer
	lw := NewLineWriter(&out)
	for _, chunk := range []string{"Looking in http://us", "er:pw@h/s\nnext ", "line\rprog", "ress"} {
		lw.Write([]byte(chunk))
	}
	if got := out.String(); got != "Looking in http://***@h/s\nnext line\r" {
		t.Errorf("before flush %q", got)
	}
	lw.Flush()
	if got := out.String(); got != "Looking in http://***@h/s\nnext line\rprogress" {
		t.Errorf("after flush %q", got)
	}
}

func TestVenvDetection(t *testing.T) {
	root := t.TempDir()
	sp := filepath.Join(root, "lib", "python3.11", "site-packages")
	for _, d := range []string{"Django-3.2.25.dist-info", "zope.interface-5.5.egg-info", "mypkg"} {
		os.MkdirAll(filepath.Join(sp, d), 0o755)
	}
	os.WriteFile(filepath.Join(sp, "mypkg", "__init__.py"), nil, 0o644)
	os.WriteFile(filepath.Join(sp, "single.py"), nil, 0o644)
	v := Venv{Root: root}
	for _, tc := range []struct {
		name string
		want bool
	}{{"django", true}, {"Django", true}, {"zope-interface", true}, {"zope_interface", true}, {"flask", false}} {
		if got := HasDistribution(v.SitePackages(), tc.name); got != tc.want {
			t.Errorf("HasDistribution(%s) = %v", tc.name, got)
		}
	}
	for _, tc := range []struct {
		name string
		want bool
	}{{"mypkg", true}, {"single", true}, {"django", false}} {
		if got := HasModule(v.SitePackages(), tc.name); got != tc.want {
			t.Errorf("HasModule(%s) = %v", tc.name, got)
		}
	}
	if mm, err := v.PythonVersion(); err != nil || mm != "3.11" {
		t.Errorf("version from lib dir: %q %v", mm, err)
	}
	os.WriteFile(filepath.Join(root, "pyvenv.cfg"), []byte("home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.12.1\n"), 0o644)
	if mm, err := v.PythonVersion(); err != nil || mm != "3.12" {
		t.Errorf("version from pyvenv.cfg: %q %v", mm, err)
	}
	if _, err := (Venv{Root: t.TempDir()}).PythonVersion(); err == nil {
		t.Error("no python: no error")
	}
}

func TestEnvHelpers(t *testing.T) {
	env := []string{"A=1", "PATH=/nope", "A=2"}
	if Getenv(env, "A") != "2" || Getenv(env, "B") != "" {
		t.Error("Getenv")
	}
	env = envlist.Set(env, "A", "3")
	if len(env) != 2 || Getenv(env, "A") != "3" {
		t.Errorf("SetEnv %q", env)
	}
	if _, err := LookPath(env, "sh"); err == nil {
		t.Error("LookPath used the caller's PATH")
	}
	if p, err := LookPath([]string{"PATH=/nope:/bin"}, "sh"); err != nil || p != "/bin/sh" {
		t.Errorf("LookPath = %q, %v", p, err)
	}
}
