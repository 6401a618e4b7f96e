package builder

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestFindLockInput(t *testing.T) {
	root := t.TempDir()
	app := filepath.Join(root, "a", "b", "app")
	os.MkdirAll(app, 0o755)
	touch := func(p string) { os.WriteFile(p, nil, 0o644) }
	if _, ok := FindLockInput(app); ok {
		t.Fatal("found something in an empty tree")
	}
	touch(filepath.Join(app, "requirements.txt"))
	if p, _ := FindLockInput(app); p != filepath.Join(app, "requirements.txt") {
		t.Errorf("got %s", p)
	}
	// A lock file up the tree wins over a local requirements.txt, as in micropipenv.
	touch(filepath.Join(root, "a", "poetry.lock"))
	if p, _ := FindLockInput(app); p != filepath.Join(root, "a", "poetry.lock") {
		t.Errorf("got %s", p)
	}
	touch(filepath.Join(app, "Pipfile.lock"))
	if p, _ := FindLockInput(app); p != filepath.Join(app, "Pipfile.lock") {
		t.Errorf("got %s", p)
	}
}

// InstallLocked runs pip with the converted lock: hashed pins with
// --require-hashes --no-deps, VCS/path entries separately with --no-deps;
// PIP_INDEX_URL wins over the lock's sources (see TestConvertPipfileLock for
// the arguments made from the sources).
func TestInstallLocked(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o755)
	log := filepath.Join(dir, "log")
	os.WriteFile(filepath.Join(bin, "pip"), []byte("#!/bin/sh\necho \"pip $*\" >> "+log+"\nfor a; do case \"$prev\" in -r) cat \"$a\" >> "+log+";; esac; prev=$a; done\n"), 0o755)
	// The real interpreter answers the marker probe.
	python3, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal(err)
	}
	os.Symlink(python3, filepath.Join(bin, "python"))
	app := filepath.Join(dir, "app")
	os.MkdirAll(app, 0o755)
	for _, f := range []string{"Pipfile", "Pipfile.lock"} {
		os.WriteFile(filepath.Join(app, f), readTestdata(t, "pipenv-vcs-path/"+f), 0o644)
	}
	venv := filepath.Join(dir, "venv")
	os.MkdirAll(filepath.Join(venv, "lib", "python3.11", "site-packages"), 0o755)
	var out bytes.Buffer
	x := &Exec{Env: []string{"PATH=" + bin + ":/usr/bin:/bin", "PIP_INDEX_URL=http://mirror/simple"}, Dir: app, Stdout: &out, Stderr: &out}
	if err := InstallLocked(context.Background(), x, app, Venv{Root: venv}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	b, _ := os.ReadFile(log)
	got := regexpTmp.ReplaceAllString(string(b), "TMP")
	want := "pip install --require-hashes --no-deps -r TMP\n" +
		"six==1.16.0 --hash=sha256:2b88154501bb8b1a92511a8007ca98170e3095cb7bd68517cb96f79bab740500\n" +
		"pip install --no-deps -r TMP\n" +
		"git+file:///tmp/asmlock/gitrepo@68b36b3623c2913107b4f55af198137e4664e72a#egg=gitlib\n-e ./mylib\n"
	if got != want {
		t.Errorf("pip calls:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(out.String(), "---> Installing 3 pinned packages from Pipfile.lock") {
		t.Errorf("output %q", out.String())
	}
	// The temporary requirement files are gone.
	if m, _ := filepath.Glob(filepath.Join(os.TempDir(), "pys2i-locked-*")); len(m) != 0 {
		t.Errorf("left behind: %v", m)
	}
}

var regexpTmp = regexp.MustCompile(`/[^ \n]*pys2i-locked-[0-9]+\.txt`)
