package integration

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// imagesApp is one app of test/apps built the way upstream's test library
// emulates `s2i build` (ct_s2i_build_as_df): a generated Containerfile.
type imagesApp struct {
	dir     string // under test/apps
	variant string
	builder string // builder image ("" = the pys2i image of variant)
	port    int    // fixed port the app binds (0: it honours PORT)
	body    string // expected GET / body ("" = the dir name)
	fail    string // the build must fail with this in its output
	// prepare edits the copy of the source before the build (lock files
	// made against the local index: their hashes are that index's bytes).
	prepare func(t *testing.T, src string)
	check   string // a shell script that must succeed in the built image
	// lines limits the app to these Python lines ("3.11"); nil is every
	// line. Say why beside the entry.
	lines []string
}

// on reports whether the app is built on Python line python.
func (a imagesApp) on(python string) bool {
	return a.lines == nil || slices.Contains(a.lines, python)
}

func TestImagesUpstreamStyleApps(t *testing.T) {
	t.Parallel()
	apps := []imagesApp{
		{dir: "wsgi-flask", variant: "minimal"},
		{dir: "app-module", variant: "minimal"},
		{dir: "app-py", variant: "minimal"},
		{dir: "app-sh", variant: "full"},
		{dir: "gunicorn-conf", variant: "minimal", port: 8085},
		{dir: "numpy-app", variant: "minimal", body: "numpy-app [0.5, 0.25]"},
		{dir: "setup-py", variant: "minimal"},
		{dir: "pyproject-src", variant: "minimal"},
		{dir: "app-home", variant: "minimal"},
		{dir: "app-config", variant: "minimal"},
		{dir: "django-app", variant: "minimal", check: "test -s staticfiles/site.css && test ! -e db.sqlite3"},
		// mod-wsgi asks for no version: the index's newest sdist.
		{dir: "mod-wsgi", variant: "full", check: imagesModWsgiCheck(newest(t, "mod-wsgi"))},
		// mod_wsgi 4.9.4 calls PySys_AddWarnOption, which Python 3.13
		// removed: its sdist does not compile there (5.0 and later do).
		{dir: "mod-wsgi-49", variant: "full", check: imagesModWsgiCheck("4.9.4"), lines: []string{"3.11"}},
		{dir: "fastapi-uvicorn", variant: "minimal", body: "fastapi-uvicorn uvicorn_worker.UvicornWorker",
			check: `python -c 'import fastapi, uvicorn_worker'
test "$APP_MODULE" = main:app
test "$GUNICORN_CMD_ARGS" = "-k uvicorn_worker.UvicornWorker --access-logfile=-"`},
		// pyproject.toml only: assemble's `pip install .` built the wheel with hatchling.
		{dir: "hatchling-app", variant: "minimal", check: `test ! -e setup.py && test ! -e setup.cfg && test ! -e requirements.txt
d=$(echo /opt/app-root/lib/python3.*/site-packages/hatchapp-2.0.dist-info)
test -d "$d" && grep -qx 'Generator: hatchling [0-9.]*' "$d/WHEEL"`},
		// uwsgi from its sdist (the index has no wheel): an ELF compiled by the image's gcc.
		{dir: "uwsgi-app-sh", variant: "full", check: `b=/opt/app-root/bin/uwsgi
test "$(head -c 4 "$b" | od -An -tx1 | tr -d ' \n')" = 7f454c46
readelf -p .comment "$b" | grep -qF "GCC: $(gcc --version | sed -n '1s/^gcc //p')"
test "$("$b" --version)" = 2.0.31`},
		{dir: "pipenv-pinned", variant: "minimal", prepare: imagesPipenvLock, check: `test "$(readlink "$HOME/.local/bin/pipenv")" = "$HOME/.local/venvs/pipenv/bin/pipenv"
"$HOME/.local/venvs/pipenv/bin/pip" show pipenv | grep -qx 'Version: 2023.11.14'
"$HOME/.local/bin/pipenv" --version | grep -qx 'pipenv, version 2023.11.14'`},
		// The lock names colorama for win32 only: the install skips it.
		{dir: "pipfile-markers", variant: "minimal", prepare: imagesPipenvLock, body: "pipfile-markers without colorama",
			check: `grep -q '"colorama": {' Pipfile.lock && grep -qF "sys_platform == 'win32'" Pipfile.lock
! python -c 'import colorama' 2>/dev/null
! ls -d /opt/app-root/lib/python3.*/site-packages/colorama* 2>/dev/null`},
		// gssapi's sdist needs krb5-config and the GSSAPI headers (libkrb5-dev).
		{dir: "gssapi-app", variant: "full", body: "gssapi-app 1.12.0",
			check: `ls /opt/app-root/lib/python3.*/site-packages/gssapi/raw/*.so >/dev/null`},
		// Django 5.2 with numpy and pandas wheels (bundled libraries) on minimal:
		// assemble collected an app's static file, the database is left to run's
		// migrate (the page queries the model's table), the migration is the model's.
		{dir: "django-pandas", variant: "minimal", body: "django-pandas 6.0 rows=0",
			check: "test -s staticfiles/readings/site.css && test ! -e db.sqlite3 && python manage.py makemigrations --check --dry-run"},
		{dir: "pipenv-lock", variant: "minimal", prepare: imagesPipenvLock},
		{dir: "micropipenv-pipfile", variant: "minimal", prepare: imagesPipenvLock},
		{dir: "micropipenv-poetry", variant: "minimal", prepare: imagesPoetryLock},
		{dir: "fail-pipenv-micropipenv", variant: "minimal", fail: "ERROR: Pipenv and micropipenv cannot be enabled at the same time!"},
		{dir: "fail-missing-package", variant: "minimal", fail: "pys2i-no-such-package-anywhere"},
	}
	for _, line := range imagesLines(t) {
		for _, app := range apps {
			if !app.on(line.python) {
				continue
			}
			app.builder = line.image(app.variant)
			t.Run(line.python+"/"+app.dir, func(t *testing.T) {
				t.Parallel()
				imagesUpstreamStyleApp(t, app, "localhost/pys2i-test/app-"+line.tag+"-"+app.dir+":latest")
			})
		}
	}
}

// imagesUpstreamStyleApp builds app as tag, checks it and serves it as
// uid 1001, as a random uid and under the init wrapper.
func imagesUpstreamStyleApp(t *testing.T, app imagesApp, tag string) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	imagesRequire(t, ctx, app.builder)
	out, err := imagesBuildApp(ctx, t, app, tag)
	if app.fail != "" {
		if err == nil {
			world.Podman(context.Background(), w.Conf, "rmi", "-f", tag)
			t.Fatalf("build of %s succeeded, want a failure:\n%s", app.dir, out)
		}
		// podman's stderr (where pip and assemble's errors go) is in err.
		if all := out + err.Error(); !strings.Contains(all, app.fail) {
			t.Fatalf("build failed without %q:\n%s", app.fail, all)
		}
		return
	}
	if err != nil {
		t.Fatalf("build %s: %v\n%s", app.dir, err, out)
	}
	defer world.Podman(context.Background(), w.Conf, "rmi", "-f", tag)
	if app.check != "" {
		if out, err := world.Podman(ctx, w.Conf, "run", "--rm", "--network", "host", tag, "sh", "-ec", app.check); err != nil {
			t.Fatalf("check %q: %v\n%s", app.check, err, out)
		}
	}
	body := app.body
	if body == "" {
		body = app.dir
	}
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"uid 1001", []string{"--user", "1001"}},
		{"random uid", []string{"--user", "12345:0"}},
		{"init wrapper", []string{"-e", "ENABLE_INIT_WRAPPER=true"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			imagesServe(ctx, t, tag, app.port, body, mode.args, mode.name == "init wrapper")
		})
	}
}

// imagesBuildApp writes the context and Containerfile and runs podman build.
func imagesBuildApp(ctx context.Context, t *testing.T, app imagesApp, tag string) (string, error) {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "apps", app.dir))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", src, filepath.Join(dir, "src")).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v %s", src, err, out)
	}
	if app.prepare != nil {
		app.prepare(t, filepath.Join(dir, "src"))
	}
	builder := app.builder
	if builder == "" {
		builder = imagesVariants[app.variant]
	}
	var cf strings.Builder
	fmt.Fprintf(&cf, "FROM %s\nUSER 0\nCOPY src /tmp/src\nRUN chown -R 1001:0 /tmp/src\n", builder)
	fmt.Fprintf(&cf, "ENV PIP_INDEX_URL=%s\n", w.Index.URL)
	// .s2i/environment lines become ENV lines, comments dropped, as upstream.
	if f, err := os.Open(filepath.Join(src, ".s2i", "environment")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
				fmt.Fprintf(&cf, "ENV %s\n", imagesEnvLine(line))
			}
		}
		f.Close()
	}
	assemble, run := "/usr/libexec/s2i/assemble", "/usr/libexec/s2i/run"
	if _, err := os.Stat(filepath.Join(src, ".s2i", "bin")); err == nil {
		cf.WriteString("RUN mv /tmp/src/.s2i/bin /tmp/scripts\n")
		if _, err := os.Stat(filepath.Join(src, ".s2i", "bin", "assemble")); err == nil {
			assemble = "/tmp/scripts/assemble"
		}
		if _, err := os.Stat(filepath.Join(src, ".s2i", "bin", "run")); err == nil {
			run = "/tmp/scripts/run"
		}
	}
	// Exec form: a shell as PID 1 would not pass SIGTERM on (dash does not exec).
	fmt.Fprintf(&cf, "USER 1001\nRUN %s\nCMD [%q]\n", assemble, run)
	if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(cf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := world.Podman(ctx, w.Conf, "build", "--network", "host", "-t", tag, dir)
	d := time.Since(start).Round(time.Millisecond)
	if err == nil {
		t.Logf("podman build %s on %s: %v, image %s", app.dir, builder, d, imagesSize(ctx, tag))
	} else {
		t.Logf("podman build %s: %v", app.dir, d)
	}
	return out, err
}

// imagesEnvLine is a .s2i/environment line as a Containerfile ENV
// argument. Upstream's harness writes the line as it is, which is s2i's value
// for one word; a value with blanks and no quotes (s2i keeps the line after
// the first "=" as it is: GUNICORN_CMD_ARGS=-k x) would be several ENV pairs,
// so it is quoted to give the image s2i's value.
func imagesEnvLine(line string) string {
	name, value, ok := strings.Cut(line, "=")
	value = strings.TrimSpace(value)
	if !ok || !strings.ContainsAny(value, " \t") || strings.ContainsAny(value, `"'`) {
		return line
	}
	return strings.TrimSpace(name) + `="` + strings.NewReplacer(`\`, `\\`, `$`, `\$`).Replace(value) + `"`
}

// imagesModWsgiCheck checks that mod_wsgi-express is the one of mod_wsgi
// version (the Apache module it loads was compiled with that version
// string, which it announces as "mod_wsgi/VERSION") and that no gunicorn
// is installed.
func imagesModWsgiCheck(version string) string {
	return fmt.Sprintf(`command -v mod_wsgi-express && ! command -v gunicorn
test "$(python -c 'from importlib.metadata import version; print(version("mod_wsgi"))')" = %[1]s
so=$(mod_wsgi-express module-location)
grep -aqF 'mod_wsgi/%%s' "$so" && grep -aqF '%[1]s' "$so"`, version)
}

// imagesServe runs the image detached with host networking and waits for
// 200 and the body on GET /; with wrapped it also checks that `podman stop
// -t 10` ends the container by the forwarded TERM, not by the KILL after
// the timeout: an exit status other than 137 (128+KILL), recorded (podman's
// exit file time) before the 10 s timeout. No tighter time bound: a
// graceful gunicorn shutdown took from 0.2 s to 6 s on a loaded 2-core
// machine (tests in parallel), so a bound would measure the load.
func imagesServe(ctx context.Context, t *testing.T, tag string, fixedPort int, body string, extra []string, wrapped bool) {
	t.Helper()
	port := fixedPort
	args := []string{"run", "-d", "--network", "host"}
	if port == 0 {
		port = freePort(t)
		args = append(args, "-e", fmt.Sprintf("PORT=%d", port))
	}
	args = append(append(args, extra...), tag)
	id, err := world.Podman(ctx, w.Conf, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer world.Podman(context.Background(), w.Conf, "rm", "-f", "-t", "0", id)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Timeout: 2 * time.Second}
	start := time.Now()
	for {
		resp, err := client.Get(url)
		if err == nil {
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(got) != body {
				logs, _ := world.Podman(ctx, w.Conf, "logs", id)
				t.Fatalf("GET %s: %d %q, want 200 %q\n%s", url, resp.StatusCode, got, body, logs)
			}
			break
		}
		if time.Since(start) > 30*time.Second {
			logs, _ := world.Podman(ctx, w.Conf, "logs", id)
			t.Fatalf("no answer on %s within 30 s: %v\n%s", url, err, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("first 200 after %v", time.Since(start).Round(time.Millisecond))
	if wrapped {
		stop := time.Now()
		code, ended := imagesStop(ctx, t, id)
		total := time.Since(stop)
		if code == 137 || ended >= 10*time.Second {
			logs, _ := imagesLogs(ctx, id)
			t.Errorf("podman stop -t 10: exit status %d after %v, want the app ended by the TERM (not 137) before the 10 s timeout\n%s", code, ended, logs)
		}
		t.Logf("podman stop -t 10: exit status %d, ended after %v (the command took %v)", code, ended.Round(time.Millisecond), total.Round(time.Millisecond))
	}
}

// imagesLockEnv is a clean environment for the world's pipenv and poetry
// (the host's PIP_* must not leak in), with caches in a temporary HOME.
// Debian's python3 is first on PATH: the images' interpreter.
func imagesLockEnv(t *testing.T) []string {
	return []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "LANG=C.UTF-8", "PIP_INDEX_URL=" + w.Index.URL}
}

// imagesLock runs a host locking tool in a scratch copy of the project files
// and copies the lock file into src.
func imagesLock(t *testing.T, src, lock string, files map[string]string, args ...string) {
	t.Helper()
	b, err := imagesLocks.get(lock, files, args, func() ([]byte, error) { return imagesRunLock(t, lock, files, args) })
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, lock), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// imagesRunLock runs the tool in a scratch directory and returns the lock.
func imagesRunLock(t *testing.T, lock string, files map[string]string, args []string) ([]byte, error) {
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	// The world's tools venv (make world), never a tool the host may have.
	cmd := exec.Command(filepath.Join(w.ToolsBin(), args[0]), args[1:]...)
	cmd.Dir, cmd.Env = dir, imagesLockEnv(t)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v (the world's tools venv, %s): %v\n%s", args, w.ToolsBin(), err, out)
	}
	t.Logf("%v: %v", args, time.Since(start).Round(time.Millisecond))
	return os.ReadFile(filepath.Join(dir, lock))
}

// imagesLocks runs each distinct lock once per test run: the same project
// files on both Python lines (and in apps that share a Pipfile) get the
// same lock, as a second run of the tool against the same index would
// write; a lock takes pipenv tens of seconds.
var imagesLocks = &lockCache{entries: map[string]*lockEntry{}}

type lockCache struct {
	mu      sync.Mutex
	entries map[string]*lockEntry
}

type lockEntry struct {
	once sync.Once
	data []byte
	err  error
}

func (c *lockCache) get(lock string, files map[string]string, args []string, run func() ([]byte, error)) ([]byte, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q\n", lock, args)
	names := slices.Sorted(maps.Keys(files))
	for _, n := range names {
		fmt.Fprintf(h, "%q %q\n", n, files[n])
	}
	key := hex.EncodeToString(h.Sum(nil))
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &lockEntry{}
		c.entries[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.data, e.err = run() })
	return e.data, e.err
}

// imagesPipenvLock makes Pipfile.lock with the world's pipenv;
// the Pipfile's source is ${PIP_INDEX_URL}, kept as such in the lock.
func imagesPipenvLock(t *testing.T, src string) {
	pipfile, err := os.ReadFile(filepath.Join(src, "Pipfile"))
	if err != nil {
		t.Fatal(err)
	}
	imagesLock(t, src, "Pipfile.lock", map[string]string{"Pipfile": string(pipfile)}, "pipenv", "lock")
}

// imagesPoetryLock puts the local index into pyproject.toml (poetry's
// content-hash covers the sources) and makes poetry.lock with the world's
// poetry.
func imagesPoetryLock(t *testing.T, src string) {
	p := filepath.Join(src, "pyproject.toml")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	pyproject := strings.ReplaceAll(string(b), "@PIP_INDEX_URL@", w.Index.URL)
	if err := os.WriteFile(p, []byte(pyproject), 0o644); err != nil {
		t.Fatal(err)
	}
	imagesLock(t, src, "poetry.lock", map[string]string{"pyproject.toml": pyproject}, "poetry", "lock", "--no-interaction")
}
