package buildpaths

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const setupPy = `from setuptools import setup, Extension
setup(name="ext", version="1.0", ext_modules=[Extension("ext", ["ext.c"])])
`

const extModuleC = `#define PY_SSIZE_T_CLEAN
#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "ext", NULL, -1, methods};
PyMODINIT_FUNC PyInit_ext(void) { return PyModule_Create(&mod); }
`

// debianPython is Debian's python3 (python3-dev, python3-wheel and
// python3-setuptools installed by .ci/install-deps), whatever else is on PATH:
// the pip that builds the sdists here is Debian's, as in the images.
const debianPython = "/usr/bin/python3"

// sdist writes ext-1.0.tar.gz, a C extension's sdist, into dir.
func sdist(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "ext-1.0")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"setup.py": setupPy, "ext.c": extModuleC} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tgz := filepath.Join(dir, "ext-1.0.tar.gz")
	run(t, dir, nil, "tar", "czf", tgz, "ext-1.0")
	return tgz
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// Real pip builds the sdist in its random directory, twice, into two
// venvs; once as a legacy install (the images' venvs have no wheel
// package), once through a wheel (a RECORD with hashes). Tree makes the
// extensions equal, keeps RECORD true, and the extension still imports.
func TestTreeAfterRealPip(t *testing.T) {
	work := t.TempDir()
	tgz := sdist(t, work)
	tmp := filepath.Join(work, "tmp") // one TMPDIR for every pip run, as in assemble
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"TMPDIR=" + tmp, "PIP_NO_INDEX=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1"}

	install := func(t *testing.T, venv string, args ...string) (string, []byte) {
		t.Helper()
		run(t, work, env, debianPython, "-m", "venv", venv)
		run(t, work, env, filepath.Join(venv, "bin", "pip"), append([]string{"install"}, args...)...)
		sp, err := filepath.Glob(filepath.Join(venv, "lib", "python3*", "site-packages"))
		if err != nil || len(sp) != 1 {
			t.Fatalf("site-packages of %s: %v %v", venv, sp, err)
		}
		so, err := filepath.Glob(filepath.Join(sp[0], "ext.cpython-*.so"))
		if err != nil || len(so) != 1 {
			t.Fatalf("the extension in %s: %v %v", sp[0], so, err)
		}
		b, err := os.ReadFile(so[0])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(tmp+"/pip-")) {
			t.Fatalf("pip built %s outside its random directory: the test proves nothing", so[0])
		}
		return sp[0], b
	}

	t.Run("legacy install", func(t *testing.T) {
		// Two venvs at one path, one after the other, as two image builds.
		venv := filepath.Join(work, "venv-legacy")
		// A named requirement found in a directory, as from an index:
		// pip builds it in pip-install-<random>/ext_<uuid>.
		sp1, first := install(t, venv, "--no-build-isolation", "--find-links", work, "ext")
		if bytes.Equal(first, mustTree(t, sp1, []string{filepath.Base(glob1(t, sp1, "ext.cpython-*.so"))})) {
			t.Fatal("Tree changed nothing")
		}
		a := readFile(t, glob1(t, sp1, "ext.cpython-*.so"))
		if err := os.RemoveAll(venv); err != nil {
			t.Fatal(err)
		}
		sp2, second := install(t, venv, "--no-build-isolation", "--find-links", work, "ext")
		if bytes.Equal(first, second) {
			t.Fatal("two pip builds gave the same extension: the test proves nothing")
		}
		mustTree(t, sp2, []string{filepath.Base(glob1(t, sp2, "ext.cpython-*.so"))})
		if b := readFile(t, glob1(t, sp2, "ext.cpython-*.so")); !bytes.Equal(a, b) {
			t.Error("normalized, the two builds differ")
		}
		out := run(t, work, nil, filepath.Join(venv, "bin", "python"), "-c", "import ext; print(ext.answer())")
		if strings.TrimSpace(out) != "42" {
			t.Errorf("import the normalized extension: %q", out)
		}
	})

	t.Run("wheel install keeps RECORD true", func(t *testing.T) {
		// The host's pip (with Debian's wheel package) builds the wheel of
		// the sdist's path in its random directory (pip-req-build-<random>); the venv's pip installs it with a RECORD.
		dist := filepath.Join(work, "dist")
		run(t, work, env, debianPython, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", dist, tgz)
		whl := glob1(t, dist, "ext-1.0-*.whl")
		venv := filepath.Join(work, "venv-wheel")
		sp, _ := install(t, venv, whl)
		so := filepath.Base(glob1(t, sp, "ext.cpython-*.so"))
		if err := os.Chmod(filepath.Join(sp, so), 0o555); err != nil { // read-only: Tree must cope
			t.Fatal(err)
		}
		mustTree(t, sp, []string{so})
		st, err := os.Stat(filepath.Join(sp, so))
		if err != nil || st.Mode().Perm() != 0o555 {
			t.Errorf("mode after Tree: %v %v", st.Mode(), err)
		}
		// pip's own view: the RECORD row's hash is the file's (computed by
		// Python here, not by the code under test).
		check := `import base64, csv, hashlib, sys, glob, os
sp = sys.argv[1]
rec = glob.glob(os.path.join(sp, "ext-1.0.dist-info", "RECORD"))[0]
for path, h, size in csv.reader(open(rec, newline="")):
    if path.endswith(".so"):
        data = open(os.path.join(sp, path), "rb").read()
        want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        print("ok" if (h, int(size)) == (want, len(data)) else "bad %s %s != %s %d" % (path, h, want, len(data)))
`
		if out := run(t, work, nil, debianPython, "-c", check, sp); strings.TrimSpace(out) != "ok" {
			t.Errorf("RECORD after Tree: %q", out)
		}
		out := run(t, work, nil, filepath.Join(venv, "bin", "python"), "-c", "import ext; print(ext.answer())")
		if strings.TrimSpace(out) != "42" {
			t.Errorf("import the normalized extension: %q", out)
		}
	})
}

// Tree never follows a symlink out of its root and leaves files that are
// not ELF alone.
func TestTreeSymlinksAndText(t *testing.T) {
	outside := t.TempDir()
	elfOut := filepath.Join(outside, "evil.so")
	orig := buildLikePip(t, outside, "aqfyh8cn", "a4650d2592764248b0f0314a1b9035fe")
	if err := os.WriteFile(elfOut, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	text := "/tmp/pip-install-abcdefgh/x_0123456789abcdef0123456789abcdef\n"
	if err := os.WriteFile(filepath.Join(root, "notes.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elfOut, filepath.Join(root, "link.so")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	changed, err := Tree(root)
	if err != nil || len(changed) != 0 {
		t.Fatalf("Tree = %v, %v; want nothing changed", changed, err)
	}
	if !bytes.Equal(readFile(t, elfOut), orig) {
		t.Error("Tree wrote through a symlink")
	}
	if string(readFile(t, filepath.Join(root, "notes.txt"))) != text {
		t.Error("Tree changed a text file")
	}
	if _, err := Tree(filepath.Join(root, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Tree of a missing dir: %v", err)
	}
}

// mustTree runs Tree on sp and checks it changed exactly want; it returns
// the first changed file's new bytes.
func mustTree(t *testing.T, sp string, want []string) []byte {
	t.Helper()
	changed, err := Tree(sp)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(changed, want) {
		t.Fatalf("Tree changed %v, want %v", changed, want)
	}
	return readFile(t, filepath.Join(sp, want[0]))
}

func glob1(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(m) != 1 {
		t.Fatalf("%s in %s: %v %v", pattern, dir, m, err)
	}
	return m[0]
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
