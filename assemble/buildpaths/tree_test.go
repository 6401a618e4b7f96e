package buildpaths

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
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

// Real pip builds the sdist in its random directory, into two venvs: once
// as a legacy install (the images' venvs have no wheel package), once
// through a wheel (a RECORD with hashes). Venv scrubs the directory out,
// keeps RECORD true, and the extension still imports.
func TestVenvAfterRealPip(t *testing.T) {
	work := t.TempDir()
	tgz := sdist(t, work)
	tmp := filepath.Join(work, "tmp") // one TMPDIR for every pip run, as in assemble
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"TMPDIR=" + tmp, "PIP_NO_INDEX=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1"}

	install := func(t *testing.T, venv string, args ...string) (string, []byte) { // site-packages, the .so
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
		t.Parallel()
		venv := filepath.Join(work, "venv-legacy")
		// A named requirement found in a directory, as from an index:
		// pip builds it in pip-install-<random>/ext_<uuid>.
		sp, before := install(t, venv, "--no-build-isolation", "--find-links", work, "ext")
		after := mustVenv(t, venv, glob1(t, sp, "ext.cpython-*.so"))
		random := regexp.MustCompile(regexp.QuoteMeta(tmp) + "/pip-install-[a-z0-9_]{8}/ext_[0-9a-f]{32}")
		if !random.Match(before) || random.Match(after) || len(after) != len(before) {
			t.Fatal("Venv left pip's random directory, or changed the length")
		}
		if !bytes.Contains(after, []byte(tmp+"/pip-install-XXXXXXXX/ext_00000000000000000000000000000000")) {
			t.Error("the placeholder is not in the extension")
		}
		out := run(t, work, nil, filepath.Join(venv, "bin", "python"), "-c", "import ext; print(ext.answer())")
		if strings.TrimSpace(out) != "42" {
			t.Errorf("import the normalized extension: %q", out)
		}
	})

	t.Run("wheel install keeps RECORD true", func(t *testing.T) {
		t.Parallel()
		// The host's pip (with Debian's wheel package) builds the wheel of
		// the sdist's path in its random directory (pip-req-build-<random>); the venv's pip installs it with a RECORD.
		dist := filepath.Join(work, "dist")
		run(t, work, env, debianPython, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", dist, tgz)
		whl := glob1(t, dist, "ext-1.0-*.whl")
		venv := filepath.Join(work, "venv-wheel")
		sp, _ := install(t, venv, whl)
		so := glob1(t, sp, "ext.cpython-*.so")
		if err := os.Chmod(so, 0o555); err != nil { // read-only: Venv must cope
			t.Fatal(err)
		}
		mustVenv(t, venv, so)
		st, err := os.Stat(so)
		if err != nil || st.Mode().Perm() != 0o555 {
			t.Errorf("mode after Venv: %v %v", st.Mode(), err)
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
			t.Errorf("RECORD after Venv: %q", out)
		}
		out := run(t, work, nil, filepath.Join(venv, "bin", "python"), "-c", "import ext; print(ext.answer())")
		if strings.TrimSpace(out) != "42" {
			t.Errorf("import the normalized extension: %q", out)
		}
	})
}

// Venv normalizes compiled programs in bin too (uwsgi installs one there),
// updating their RECORD rows ("../../../bin/..."); it never follows a
// symlink out of the venv and leaves files that are not ELF alone.
func TestVenvProgramsSymlinksAndText(t *testing.T) {
	outside := t.TempDir()
	elfOut := filepath.Join(outside, "python3")
	orig := buildLikePip(t, outside, "aqfyh8cn", "a4650d2592764248b0f0314a1b9035fe")
	if err := os.WriteFile(elfOut, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	venv := t.TempDir()
	sp := filepath.Join(venv, "lib", "python3.11", "site-packages")
	for _, d := range []string{filepath.Join(venv, "bin"), filepath.Join(sp, "prog-1.0.dist-info")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	prog := filepath.Join(venv, "bin", "prog")
	if err := os.WriteFile(prog, orig, 0o755); err != nil {
		t.Fatal(err)
	}
	record := "../../../bin/prog,sha256=old,1\r\nprog-1.0.dist-info/RECORD,,\r\n"
	if err := os.WriteFile(filepath.Join(sp, "prog-1.0.dist-info", "RECORD"), []byte(record), 0o644); err != nil {
		t.Fatal(err)
	}
	text := "/tmp/pip-install-abcdefgh/x_0123456789abcdef0123456789abcdef\n"
	if err := os.WriteFile(filepath.Join(sp, "notes.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elfOut, filepath.Join(venv, "bin", "python")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(sp, "linkdir")); err != nil {
		t.Fatal(err)
	}
	mustVenv(t, venv, prog)
	if !bytes.Equal(readFile(t, elfOut), orig) {
		t.Error("Venv wrote through a symlink")
	}
	if string(readFile(t, filepath.Join(sp, "notes.txt"))) != text {
		t.Error("Venv changed a text file")
	}
	newProg := readFile(t, prog)
	want := "../../../bin/prog," + RecordHash(newProg) + "," + strconv.Itoa(len(newProg)) + "\r\nprog-1.0.dist-info/RECORD,,\r\n"
	if got := string(readFile(t, filepath.Join(sp, "prog-1.0.dist-info", "RECORD"))); got != want {
		t.Errorf("RECORD = %q, want %q", got, want)
	}
	// A venv without bin or site-packages is nothing to do.
	if changed, err := Venv(t.TempDir()); err != nil || len(changed) != 0 {
		t.Errorf("Venv of an empty dir = %v, %v", changed, err)
	}
}

// mustVenv runs Venv on venv and checks it changed exactly the file want;
// it returns want's new bytes.
func mustVenv(t *testing.T, venv, want string) []byte {
	t.Helper()
	changed, err := Venv(venv)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(venv, want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(changed, []string{rel}) {
		t.Fatalf("Venv changed %v, want [%s]", changed, rel)
	}
	return readFile(t, want)
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

func TestMayBeELF(t *testing.T) {
	for name, want := range map[string]bool{
		"_speedups.cpython-311-x86_64-linux-gnu.so": true,
		"libopenblas64_p-r0-5007b62f.3.23.dev.so":   true,
		"libgfortran-040039e1.so.5.0.0":             true,
		"uwsgi":                                     true,
		"__init__.py":                               false,
		"__init__.cpython-311.pyc":                  false,
		"RECORD":                                    false,
		"py.typed":                                  false,
		"cacert.pem":                                false,
	} {
		if got := mayBeELF(name); got != want {
			t.Errorf("mayBeELF(%q) = %v, want %v", name, got, want)
		}
	}
}
