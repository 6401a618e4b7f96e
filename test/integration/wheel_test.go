package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/builder/wheel"
	"github.com/pys2i/pys2i/test/world/pyindex"
)

// wheelEqualitySet is the installer's equality set: compiled cpXY and abi3
// wheels, .data/headers (greenlet), .data/scripts with #!python
// (jsonpointer), gui_scripts (thonny), PEP 420 namespace packages sharing a
// directory (jaraco.functools, jaraco.context), console_scripts.
var wheelEqualitySet = []string{
	"numpy", "pandas", "django", "flask", "werkzeug", "jinja2", "markupsafe", "itsdangerous",
	"click", "blinker", "gunicorn", "packaging", "uvicorn", "h11", "fastapi", "starlette",
	"pydantic", "pydantic-core", "anyio", "idna", "typing-extensions", "psycopg2-binary",
	"cryptography", "cffi", "pycparser", "pyyaml", "lxml", "greenlet", "thonny",
	"jaraco-functools", "jaraco-context", "more-itertools", "backports-tarfile", "zope-interface", "jsonpointer", "pyserial",
	"docutils", "six", "colorama", "decorator", "requests", "urllib3", "certifi",
	"charset-normalizer", "python-dateutil", "pytz", "tzdata", "asgiref", "sqlparse",
}

// lockLines are name==version lines with every sha256 the world's lock
// has for the project's newest version (cp311 and cp313 wheels, as a
// lock file lists them).
func lockLines(t *testing.T, projects []string) []string {
	t.Helper()
	l := pyindex.DefaultLock()
	var lines []string
	for _, p := range projects {
		v := l.Newest(p)
		if v == "" {
			t.Fatalf("the world's index has no %s (test/world/pyindex/pins.txt)", p)
		}
		line := p + "==" + v
		for _, f := range l.Files {
			if f.Name == p && f.Version == v {
				line += " --hash=sha256:" + f.SHA256
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// hostVenv makes a fresh venv at dir with the host's python3 (removing
// what was there).
func hostVenv(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("python3", "-m", "venv", dir).CombinedOutput(); err != nil {
		t.Fatalf("python3 -m venv: %v\n%s", err, out)
	}
}

// venvEnv is pip's environment for the venv: no user or machine config.
func venvEnv(venv string) []string {
	return []string{
		"PATH=" + filepath.Join(venv, "bin") + ":/usr/local/bin:/usr/bin:/bin",
		"VIRTUAL_ENV=" + venv, "HOME=" + filepath.Dir(venv), "LANG=C.UTF-8",
		"PIP_CONFIG_FILE=" + os.DevNull, "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1",
	}
}

type treeEntry struct {
	mode fs.FileMode
	sum  string // content sha256, or the link target
	text string // RECORD's sorted lines, to show a difference
}

// snapshot maps each path under root to its mode and content hash.
func snapshot(t *testing.T, root string) map[string]treeEntry {
	t.Helper()
	out := map[string]treeEntry{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := treeEntry{mode: info.Mode()}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			e.sum, _ = os.Readlink(p)
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if filepath.Base(p) == "RECORD" && strings.HasSuffix(filepath.Dir(p), ".dist-info") {
				lines := strings.SplitAfter(string(b), "\n")
				for i, l := range lines {
					// INSTALLER differs ("pip", "pys2i"), so does its row.
					if p, _, ok := strings.Cut(l, ","); ok && strings.HasSuffix(p, ".dist-info/INSTALLER") {
						lines[i] = p + ",(INSTALLER)\r\n"
					}
				}
				sort.Strings(lines)
				b = []byte(strings.Join(lines, ""))
				e.text = string(b)
			}
			s := sha256.Sum256(b)
			e.sum = hex.EncodeToString(s[:])
		}
		out[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareTrees reports every difference but INSTALLER content and pyc
// content (bytecode embeds the source's mtime).
func compareTrees(pip, ours map[string]treeEntry) []string {
	var diffs []string
	for p, a := range pip {
		b, ok := ours[p]
		switch {
		case !ok:
			diffs = append(diffs, "missing: "+p)
		case a.mode != b.mode:
			diffs = append(diffs, fmt.Sprintf("mode %s: pip %v, ours %v", p, a.mode, b.mode))
		case a.sum != b.sum && filepath.Base(p) != "INSTALLER" && !strings.HasSuffix(p, ".pyc"):
			diffs = append(diffs, "content: "+p+lineDiff(a.text, b.text))
		}
	}
	for p := range ours {
		if _, ok := pip[p]; !ok {
			diffs = append(diffs, "extra: "+p)
		}
	}
	sort.Strings(diffs)
	return diffs
}

func pipPython(t *testing.T, venv string) string {
	t.Helper()
	return filepath.Join(venv, "bin", "python3")
}

// installWheels runs the Go installer into venv from the world's index.
func installWheels(t *testing.T, venv string, env, lines []string) (wheel.Result, string, error) {
	t.Helper()
	return installWheelsFrom(t, venv, env, w.Index.URL, lines)
}

// installWheelsFrom is installWheels from another index.
func installWheelsFrom(t *testing.T, venv string, env []string, index string, lines []string) (wheel.Result, string, error) {
	t.Helper()
	var reqs []wheel.Req
	for _, l := range lines {
		r, ok := wheel.SplitLine(l)
		if !ok {
			t.Fatalf("line %q", l)
		}
		reqs = append(reqs, r)
	}
	var log bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := wheel.Install(ctx, wheel.Options{
		Python: pipPython(t, venv), Env: env, Log: &log,
		PipArgs: []string{"install", "--require-hashes", "--no-deps", "--index-url", index},
	}, reqs)
	return res, log.String(), err
}

// The Go installer's tree equals pip's, file for file and byte for byte
// (but INSTALLER, RECORD order and bytecode), for the equality set, in a
// venv at the same path, with the venv's pip (python3's ensurepip) and with
// the newest pip of the world; and the entry points run.
func TestWheelInstallerEqualsPip(t *testing.T) {
	for _, pipVersion := range []string{"", "newest"} {
		t.Run("pip="+pipVersion, func(t *testing.T) { testEqualsPip(t, pipVersion) })
	}
}

// hostVenvWithPip is hostVenv with pip replaced by pipVersion ("newest":
// the world's newest) when set.
func hostVenvWithPip(t *testing.T, venv, pipVersion string, env []string) {
	t.Helper()
	hostVenv(t, venv)
	if pipVersion == "" {
		return
	}
	line := lockLines(t, []string{"pip"})[0]
	req := filepath.Join(filepath.Dir(venv), "pip-requirement.txt")
	if err := os.WriteFile(req, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(venv, "bin", "pip"), "install", "-q", "--require-hashes", "--no-deps", "--index-url", w.Index.URL, "-r", req)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install %s: %v\n%s", line, err, out)
	}
}

func testEqualsPip(t *testing.T, pipVersion string) {
	base := t.TempDir()
	venv := filepath.Join(base, "venv")
	env := venvEnv(venv)
	lines := lockLines(t, wheelEqualitySet)
	req := filepath.Join(base, "requirements.txt")
	if err := os.WriteFile(req, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	hostVenvWithPip(t, venv, pipVersion, env)
	cmd := exec.Command(filepath.Join(venv, "bin", "pip"), "install", "-q", "--require-hashes", "--no-deps", "--index-url", w.Index.URL, "-r", req)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install: %v\n%s", err, out)
	}
	byPip := snapshot(t, venv)

	hostVenvWithPip(t, venv, pipVersion, env)
	res, log, err := installWheels(t, venv, env, lines)
	if err != nil {
		t.Fatalf("wheel.Install: %v\n%s", err, log)
	}
	if len(res.ForPip) > 0 || len(res.Installed) != len(lines) {
		t.Fatalf("installed %d of %d, left %v to pip:\n%s", len(res.Installed), len(lines), res.ForPip, log)
	}
	ours := snapshot(t, venv)
	if diffs := compareTrees(byPip, ours); len(diffs) > 0 {
		t.Errorf("%d differences from pip:\n%s", len(diffs), strings.Join(diffs[:min(len(diffs), 60)], "\n"))
	}
	if len(byPip) < 1000 {
		t.Errorf("pip's tree has only %d entries", len(byPip))
	}
	for _, args := range [][]string{
		{"flask", "--version"}, {"gunicorn", "--version"}, {"django-admin", "--version"},
		{"uvicorn", "--version"}, {"jsonpointer", "--help"}, {"pyserial-ports", "--help"},
		{"docutils", "--version"}, {"f2py", "-v"},
		{"python", "-c", "import numpy, pandas, lxml.etree, yaml, cryptography.fernet, greenlet, psycopg2, zope.interface, jaraco.functools, jaraco.context, thonny; print('ok')"},
	} {
		cmd := exec.Command(filepath.Join(venv, "bin", args[0]), args[1:]...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, p := range []string{"bin/thonny", "include/site/python3.11/greenlet/greenlet.h", "bin/jsonpointer"} {
		if _, ok := ours[p]; !ok {
			t.Errorf("%s is not installed", p)
		}
	}
}

// lineDiff lists the lines only one of two texts has (for RECORD).
func lineDiff(a, b string) string {
	if a == "" && b == "" {
		return ""
	}
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "\n\t- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "\n\t+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out[:min(len(out), 6)], "")
}

// Same inputs, same bytes: with SOURCE_DATE_EPOCH set (bytecode then
// checks hashes, not mtimes), two installs into the same path give equal
// trees, bytecode included.
func TestWheelInstallerReproducible(t *testing.T) {
	base := t.TempDir()
	venv := filepath.Join(base, "venv")
	env := append(venvEnv(venv), "SOURCE_DATE_EPOCH=315532800")
	lines := lockLines(t, []string{"flask", "werkzeug", "jinja2", "markupsafe", "greenlet", "jsonpointer", "thonny", "pyyaml"})
	var trees []map[string]treeEntry
	for range 2 {
		hostVenv(t, venv)
		before := snapshot(t, venv)
		if res, log, err := installWheels(t, venv, env, lines); err != nil || len(res.Installed) != len(lines) {
			t.Fatalf("install: %v %+v\n%s", err, res, log)
		}
		tree := snapshot(t, venv)
		for p := range before {
			delete(tree, p) // the venv's own pip differs in its bytecode's mtimes
		}
		trees = append(trees, tree)
	}
	pycs := 0
	for p, a := range trees[0] {
		if strings.HasSuffix(p, ".pyc") {
			pycs++
		}
		if b, ok := trees[1][p]; !ok || a != b {
			t.Errorf("%s differs between two installs", p)
		}
	}
	if len(trees[0]) != len(trees[1]) || pycs < 100 {
		t.Errorf("%d and %d entries, %d pyc files", len(trees[0]), len(trees[1]), pycs)
	}
}

// A requirements.txt of hashed pins in the image: builder/wheel installs
// them, pip then finds them satisfied; PYS2I_INSTALLER=pip leaves all to
// pip. Both give a working, consistent venv with pip's modes.
func TestAssembleHashedRequirements(t *testing.T) {
	t.Parallel()
	lines := lockLines(t, []string{"flask", "werkzeug", "jinja2", "markupsafe", "itsdangerous", "click", "blinker", "gunicorn", "packaging"})
	for _, installer := range []string{"", "pip"} {
		t.Run("installer="+installer, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var text strings.Builder // as pip-compile writes it
			for _, l := range lines {
				text.WriteString("# a comment\n" + strings.ReplaceAll(l, " --hash", " \\\n    --hash") + "\n")
			}
			b := asmNewBox(t, ctx, "minimal", map[string]string{
				"requirements.txt": text.String(),
				"wsgi.py":          asmFlaskApp,
			})
			var env []string
			if installer != "" {
				env = append(env, "PYS2I_INSTALLER="+installer)
			}
			out := b.mustAssemble(env...)
			ours := strings.Contains(out, "---> Installed 9 pinned packages without pip")
			if ours != (installer == "") {
				t.Errorf("builder/wheel used: %v\n%s", ours, out)
			}
			if installer == "" && strings.Contains(out, "Successfully installed") && strings.Count(out, "Successfully installed") != 1 {
				t.Errorf("pip installed again:\n%s", out)
			}
			got := b.sh(`cd /tmp && python -m pip check >/dev/null && echo consistent; gunicorn --version; flask --version | head -2 | tail -1
stat -c '%g %A' /opt/app-root/lib/python3*/site-packages/flask/app.py /opt/app-root/bin/gunicorn`)
			want := "consistent\ngunicorn (version " + newest(t, "gunicorn") + ")\nFlask " + newest(t, "flask") + "\n0 -rw-rw-r--\n0 -rwxrwxr-x\n"
			if got != want {
				t.Errorf("after assemble:\n%s\nwant:\n%s\n%s", got, want, out)
			}
		})
	}
}
