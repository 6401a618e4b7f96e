package pyindex

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tests share one WorkDir (apt state, downloads); set PYINDEX_TEST_WORKDIR
// to keep it between runs.
var (
	testWorkDir string
	testMirror  string
)

func TestMain(m *testing.M) {
	testMirror = os.Getenv("PYINDEX_MIRROR")
	if testMirror == "" {
		testMirror = hostMirror()
	}
	testWorkDir = os.Getenv("PYINDEX_TEST_WORKDIR")
	cleanup := func() {}
	if testWorkDir == "" {
		d, err := os.MkdirTemp("", "pyindex-work-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		testWorkDir = d
		cleanup = func() { os.RemoveAll(d) }
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// hostMirror reads the bookworm mirror from the host's deb822 sources.
func hostMirror() string {
	b, err := os.ReadFile("/etc/apt/sources.list.d/debian.sources")
	if err == nil {
		for _, para := range strings.Split(string(b), "\n\n") {
			var uri string
			main := false
			for _, line := range strings.Split(para, "\n") {
				k, v, _ := strings.Cut(line, ":")
				switch strings.TrimSpace(k) {
				case "URIs":
					uri = strings.Fields(v)[0]
				case "Suites":
					for _, s := range strings.Fields(v) {
						main = main || s == "bookworm"
					}
				}
			}
			if main && uri != "" {
				return strings.TrimRight(uri, "/")
			}
		}
	}
	return "http://deb.debian.org/debian"
}

func testOptions(t *testing.T, out string, log *bytes.Buffer) Options {
	o := Options{Mirror: testMirror, Suite: "bookworm", WorkDir: testWorkDir, OutDir: out}
	if log != nil {
		o.Log = log
	}
	return o
}

func smallRecipe() Recipe {
	d := DefaultRecipe()
	keep := map[string]bool{"python3-six": true, "python3-flask": true, "python3-werkzeug": true, "python3-jinja2": true,
		"python3-itsdangerous": true, "python3-click": true, "python3-markupsafe": true, "python3-gunicorn": true,
		"python3-numpy": true, "python3-packaging": true, "python3-certifi": true}
	var r Recipe
	for _, w := range d.Wheels {
		if keep[w.Deb] {
			r.Wheels = append(r.Wheels, w)
		}
	}
	r.Prebuilt = []string{"python3-setuptools-whl"}
	for _, s := range d.Sdists {
		if s.Project == "gunicorn" {
			r.Sdists = append(r.Sdists, s)
		}
	}
	return r
}

// cleanEnv is an env -i style environment: no PIP_*, no LD_LIBRARY_PATH.
func cleanEnv(home string) []string {
	return []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "LC_ALL=C.UTF-8"}
}

func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s (%s)", filepath.Base(name), strings.Join(args[:min(len(args), 3)], " "), time.Since(start).Round(time.Millisecond))
	return string(out)
}

func readManifest(t *testing.T, out string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	prev := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "  ")
		if len(f) != 3 || len(f[0]) != 64 {
			t.Fatalf("manifest line %q", sc.Text())
		}
		if f[2] <= prev {
			t.Errorf("manifest not sorted at %s", f[2])
		}
		prev = f[2]
		data, err := os.ReadFile(filepath.Join(out, f[2]))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != f[0] || strconv.Itoa(len(data)) != f[1] {
			t.Errorf("manifest: %s does not match the file", f[2])
		}
		m[f[2]] = f[0]
	}
	return m
}

// TestBuildSmall builds six + the Flask family + gunicorn 20.1 and 23.0 +
// numpy (bundled BLAS/LAPACK) twice, checks the two outputs are identical,
// then installs from them with Debian's python3: from the folders, and over
// HTTP through the PEP 503 pages.
func TestBuildSmall(t *testing.T) {
	dir := t.TempDir()
	out1, out2 := filepath.Join(dir, "out1"), filepath.Join(dir, "out2")
	var log1, log2 bytes.Buffer
	start := time.Now()
	if err := Build(context.Background(), smallRecipe(), testOptions(t, out1, &log1)); err != nil {
		t.Fatalf("build 1: %v\n%s", err, log1.String())
	}
	t.Logf("build 1: %s\n%s", time.Since(start).Round(time.Millisecond), log1.String())
	start = time.Now()
	if err := Build(context.Background(), smallRecipe(), testOptions(t, out2, &log2)); err != nil {
		t.Fatalf("build 2: %v\n%s", err, log2.String())
	}
	t.Logf("build 2 (warm): %s", time.Since(start).Round(time.Millisecond))

	m1, m2 := readManifest(t, out1), readManifest(t, out2)
	if len(m1) != len(m2) {
		t.Errorf("manifests: %d and %d files", len(m1), len(m2))
	}
	b1, _ := os.ReadFile(filepath.Join(out1, ManifestName))
	b2, _ := os.ReadFile(filepath.Join(out2, ManifestName))
	if !bytes.Equal(b1, b2) {
		t.Fatalf("two builds differ:\n%s\n---\n%s", b1, b2)
	}
	for _, want := range []string{
		"simple/index.html",
		"simple/six/six-1.16.0-py3-none-any.whl",
		"simple/flask/Flask-2.2.2-py3-none-any.whl",
		"simple/werkzeug/Werkzeug-2.2.2-py3-none-any.whl",
		"simple/jinja2/Jinja2-3.1.2-py3-none-any.whl",
		"simple/markupsafe/MarkupSafe-2.1.2-cp311-cp311-linux_x86_64.whl",
		"simple/gunicorn/gunicorn-20.1.0-py3-none-any.whl",
		"simple/gunicorn/gunicorn-23.0.0-py3-none-any.whl",
		"simple/gunicorn/gunicorn-23.0.0.tar.gz",
		"simple/numpy/numpy-1.24.2-cp311-cp311-linux_x86_64.whl",
		"simple/setuptools/setuptools-66.1.1-py3-none-any.whl",
		"simple/gunicorn/index.html",
	} {
		if m1[want] == "" {
			t.Errorf("no %s in the index", want)
		}
	}
	if m1["simple/gunicorn/gunicorn-23.0.0.tar.gz"] != "d92daec8a5fb3d48d61ae13841173e93f321b0fd3378d876b7efbb75a1e95247" {
		t.Error("the sdist is not the pool file")
	}

	// Every wheel: RECORD verifies, entries normalized.
	var wheelDirs []string
	for p := range m1 {
		if !strings.HasSuffix(p, ".whl") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(out1, p))
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyRecord(data); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, "/") || f.ModifiedDate != dosDate1980 || f.Method != zip.Deflate {
				t.Errorf("%s: entry %s not normalized", p, f.Name)
				break
			}
		}
		wheelDirs = append(wheelDirs, filepath.Dir(filepath.Join(out1, p)))
	}
	checkWheel(t, filepath.Join(out1, "simple/werkzeug/Werkzeug-2.2.2-py3-none-any.whl"), map[string]string{
		"werkzeug/debug/shared/jquery.js":   "jQuery", // symlink into libjs-jquery, resolved
		"Werkzeug-2.2.2.dist-info/METADATA": "Requires-Dist: MarkupSafe>=2.1.1\n",
	})
	checkWheel(t, filepath.Join(out1, "simple/flask/Flask-2.2.2-py3-none-any.whl"), map[string]string{
		"Flask-2.2.2.dist-info/METADATA":         "Requires-Dist: Werkzeug<3,>=2.2.2\n",
		"Flask-2.2.2.dist-info/entry_points.txt": "flask = flask.cli:main",
		"Flask-2.2.2.dist-info/WHEEL":            "Root-Is-Purelib: true\nTag: py3-none-any\n",
	})
	checkWheel(t, filepath.Join(out1, "simple/certifi/certifi-2022.9.24-py3-none-any.whl"), map[string]string{
		"certifi/core.py":    "# pys2i: no ca-certificates", // recipe patch applied
		"certifi/cacert.pem": "-----BEGIN CERTIFICATE-----",
	})
	checkWheel(t, filepath.Join(out1, "simple/numpy/numpy-1.24.2-cp311-cp311-linux_x86_64.whl"), map[string]string{
		"numpy.libs/libblas.so.3":      "\x7fELF",
		"numpy.libs/liblapack.so.3":    "\x7fELF",
		"numpy.libs/libgfortran.so.5":  "\x7fELF",
		"numpy.libs/libquadmath.so.0":  "\x7fELF",
		"numpy-1.24.2.dist-info/WHEEL": "Root-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n",
	})

	// PEP 503 pages.
	page, _ := os.ReadFile(filepath.Join(out1, "simple/flask/index.html"))
	link := regexp.MustCompile(`<a href="Flask-2.2.2-py3-none-any.whl#sha256=([0-9a-f]{64})" data-requires-python="&gt;=3.7">Flask-2.2.2-py3-none-any.whl</a>`)
	if mm := link.FindSubmatch(page); mm == nil || string(mm[1]) != m1["simple/flask/Flask-2.2.2-py3-none-any.whl"] {
		t.Errorf("simple/flask/index.html:\n%s", page)
	}
	root, _ := os.ReadFile(filepath.Join(out1, "simple/index.html"))
	if !strings.Contains(string(root), `<a href="flask/">flask</a>`) || !strings.Contains(string(root), `<a href="markupsafe/">markupsafe</a>`) {
		t.Errorf("simple/index.html:\n%s", root)
	}

	if _, err := os.Stat(DebianPython); err != nil {
		t.Skip("no Debian python3")
	}
	venvs := t.TempDir()
	home := filepath.Join(venvs, "home")
	env := cleanEnv(home)

	// Install from the folders of wheels.
	v := filepath.Join(venvs, "V")
	run(t, env, DebianPython, "-m", "venv", v)
	args := []string{"install", "--no-index", "--no-cache-dir", "--disable-pip-version-check"}
	seen := map[string]bool{}
	for _, d := range wheelDirs {
		if !seen[d] {
			seen[d] = true
			args = append(args, "--find-links", d)
		}
	}
	run(t, env, filepath.Join(v, "bin/pip"), append(args, "flask", "numpy")...)
	got := run(t, env, filepath.Join(v, "bin/python"), "-c",
		"import flask, numpy; a = numpy.linalg.inv(numpy.eye(3) * 2); print(flask.__version__, numpy.__version__, a[0][0])")
	if !strings.Contains(got, "2.2.2 1.24.2 0.5") {
		t.Errorf("import flask, numpy: %s", got)
	}
	sos, _ := filepath.Glob(filepath.Join(v, "lib/python3.11/site-packages/numpy/linalg/_umath_linalg*.so"))
	if len(sos) != 1 {
		t.Fatalf("_umath_linalg: %v", sos)
	}
	ldd := run(t, env, "ldd", sos[0])
	for _, lib := range []string{"libblas.so.3", "liblapack.so.3", "libgfortran.so.5", "libquadmath.so.0"} {
		re := regexp.MustCompile(regexp.QuoteMeta(lib) + ` => (\S+)`)
		mm := re.FindStringSubmatch(ldd)
		if mm == nil || !strings.Contains(mm[1], "/numpy.libs/") {
			t.Errorf("%s not resolved from numpy.libs:\n%s", lib, ldd)
		}
	}

	// Over HTTP, through the PEP 503 pages.
	srv := httptest.NewServer(http.FileServer(http.Dir(out1)))
	defer srv.Close()
	w := filepath.Join(venvs, "W")
	run(t, env, DebianPython, "-m", "venv", w)
	run(t, env, filepath.Join(w, "bin/pip"), "install", "--no-cache-dir", "--disable-pip-version-check",
		"--index-url", srv.URL+"/simple", "flask==2.2.2", "gunicorn==20.1.0")
	if got := run(t, env, filepath.Join(w, "bin/gunicorn"), "--version"); !strings.Contains(got, "20.1.0") {
		t.Errorf("gunicorn --version: %s", got)
	}
	if got := run(t, env, filepath.Join(w, "bin/flask"), "--version"); !strings.Contains(got, "Flask 2.2.2") || !strings.Contains(got, "Werkzeug 2.2.2") {
		t.Errorf("flask --version: %s", got)
	}
}

func checkWheel(t *testing.T, path string, want map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	files, err := ReadWheel(data)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]byte{}
	for _, f := range files {
		by[f.Name] = f.Data
	}
	for name, sub := range want {
		b, ok := by[name]
		if !ok {
			t.Errorf("%s: no %s", filepath.Base(path), name)
			continue
		}
		if !bytes.Contains(b, []byte(sub)) {
			t.Errorf("%s: %s lacks %q", filepath.Base(path), name, sub)
		}
	}
}

func TestBadSdistSHA256(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	s := DefaultRecipe().Sdists[0]
	s.SHA256 = strings.Repeat("0", 64)
	err := Build(context.Background(), Recipe{Sdists: []Sdist{s}}, testOptions(t, out, nil))
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("error: %v", err)
	for _, want := range []string{"fetch " + s.Pool + ":", filepath.Base(s.Pool), "expected " + s.SHA256, "got d92daec8"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, ManifestName)); err == nil {
		t.Error("failed build left a MANIFEST.txt")
	}
}

func TestUnknownDeb(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	r := Recipe{Wheels: []DebWheel{
		{Deb: "python3-six", Project: "six"},
		{Deb: "python3-no-such-package-pys2i", Project: "nosuch"},
	}}
	err := Build(context.Background(), r, testOptions(t, out, nil))
	if err == nil {
		t.Fatal("no error")
	}
	t.Logf("error: %v", err)
	if !strings.HasPrefix(err.Error(), "download python3-no-such-package-pys2i:") || strings.Contains(err.Error(), "python3-six") {
		t.Errorf("error %q should name the unknown deb, and only it", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("failed build created OutDir")
	}
}

// TestMissingBundle: numpy without its bundle fails naming the library.
func TestMissingBundle(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	r := Recipe{Wheels: []DebWheel{{Deb: "python3-numpy", Project: "numpy", Bundle: []string{"libquadmath0"}}}}
	err := Build(context.Background(), r, testOptions(t, out, nil))
	if err == nil || !strings.HasPrefix(err.Error(), "repack python3-numpy: needed library ") || !strings.Contains(err.Error(), "not found in bundle") {
		t.Fatalf("err = %v", err)
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "libblas.so.3") && !strings.Contains(err.Error(), "liblapack.so.3") {
		t.Errorf("err = %v, want it to name libblas or liblapack", err)
	}
}

func TestOutDirNotEmpty(t *testing.T) {
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "stale"), nil, 0o644)
	err := Build(context.Background(), Recipe{}, testOptions(t, out, nil))
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v", err)
	}
}
