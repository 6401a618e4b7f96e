package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/test/harness"
)

// runUIDs are the users every run scenario is proven as: the image's user
// and an arbitrary one with group 0, as OpenShift assigns.
var runUIDs = []uint32{1001, 12345}

// runWSGI is a WSGI module whose body names the app, the server that runs
// it and the user name the app sees (getpwuid, as whoami does).
func runWSGI(name string) string {
	return fmt.Sprintf(`import os, pwd
NAME = %q

def body(environ):
    server = "mod_wsgi" if "mod_wsgi.version" in environ else environ.get("SERVER_SOFTWARE", "").split("/")[0]
    return "%%s via %%s as %%s" %% (NAME, server, pwd.getpwuid(os.getuid()).pw_name)

def application(environ, start_response):
    b = body(environ).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(b)))])
    return [b]

app = application
`, name)
}

// runServerPy serves the module next to it with wsgiref on $PORT; WHO, when
// set (by app.sh from whoami), is appended to the body.
const runServerPy = `import os, sys
from wsgiref.simple_server import make_server
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import appmod

def application(environ, start_response):
    b = appmod.body(environ)
    if os.environ.get("WHO"):
        b += " whoami " + os.environ["WHO"]
    b = b.encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(b)))])
    return [b]

make_server("0.0.0.0", int(os.environ["PORT"]), application).serve_forever()
`

const runDjangoSettings = `SECRET_KEY = "x"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "mysite.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
USE_TZ = True
`

const runDjangoURLs = `import os, pwd
from django.http import HttpResponse
from django.urls import path

def index(request):
    return HttpResponse("django via runserver as %s" % pwd.getpwuid(os.getuid()).pw_name, content_type="text/plain")

urlpatterns = [path("", index)]
`

const runDjangoManage = `#!/usr/bin/env python
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
`

// runCase is one way of starting an app with /usr/libexec/s2i/run.
type runCase struct {
	name  string
	files map[string]string // under $HOME; a name ending in "*" is made executable
	env   []string          // PORT=%d is filled with a free port
	// port: which port to GET: "PORT" (the free port given as PORT) or
	// "OTHER" (a second free port, given as OTHERPORT to file templates).
	other bool
	body  string // %s is the user name
	check func(t *testing.T, state string, port int, uid uint32)
}

// runPrepare installs packages as 1001 into a builder stand-in once; cases
// start from a copy of that state.
func runPrepare(t *testing.T, ctx context.Context, variant, bin string, pkgs ...string) string {
	t.Helper()
	state := t.TempDir()
	s, err := w.S2ISpec(ctx, variant, state, bin)
	if err != nil {
		t.Fatal(err)
	}
	s.Env = append(s.Env, "PIP_DISABLE_PIP_VERSION_CHECK=1")
	out := sh(t, ctx, s, fmt.Sprintf("pip install -q --index-url %s %s", w.Index.URL, strings.Join(pkgs, " ")))
	t.Logf("installed %s in %s: %s", strings.Join(pkgs, " "), variant, out)
	return state
}

// runCaseSpec empties $HOME in state (one builder stand-in shared by the
// cases, run one after another), writes the app files there (owned 1001:0,
// group-writable, as assemble leaves them; absolute names go to that path in
// the image) and returns a spec running /usr/libexec/s2i/run as uid.
func runCaseSpec(t *testing.T, ctx context.Context, variant, state, bin string, uid uint32, files map[string]string, env []string) sandbox.Spec {
	t.Helper()
	home := filepath.Join(state, "upper", harness.AppHome)
	old, _ := filepath.Glob(filepath.Join(home, "*"))
	dot, _ := filepath.Glob(filepath.Join(home, ".*"))
	for _, p := range append(old, dot...) {
		if err := os.RemoveAll(p); err != nil {
			t.Fatal(err)
		}
	}
	s, err := w.S2ISpec(ctx, variant, state, bin, harness.ScriptsPath+"/run")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		mode := os.FileMode(0o664)
		if n, ok := strings.CutSuffix(name, "*"); ok {
			name, mode = n, 0o775
		}
		base := home
		if filepath.IsAbs(name) {
			base = filepath.Join(state, "upper")
		}
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o775); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		os.Chown(p, 1001, 0)
		for d := filepath.Dir(p); base == home && strings.HasPrefix(d, home+"/"); d = filepath.Dir(d) {
			os.Chown(d, 1001, 0)
			os.Chmod(d, 0o775)
		}
	}
	s.UID, s.GID = uid, 0
	s.Env = append(s.Env, env...)
	return s
}

func runFill(s string, port, other int) string {
	return strings.NewReplacer("{PORT}", fmt.Sprint(port), "{OTHERPORT}", fmt.Sprint(other)).Replace(s)
}

func runCases(t *testing.T, ctx context.Context, variant, prepared, bin string, cases []runCase) {
	for _, c := range cases {
		for _, uid := range runUIDs {
			t.Run(fmt.Sprintf("%s/uid%d", c.name, uid), func(t *testing.T) {
				port, other := freePort(t), freePort(t)
				for other == port {
					other = freePort(t)
				}
				files := map[string]string{}
				for k, v := range c.files {
					files[k] = runFill(v, port, other)
				}
				var env []string
				for _, e := range c.env {
					env = append(env, runFill(e, port, other))
				}
				s := runCaseSpec(t, ctx, variant, prepared, bin, uid, files, env)
				get := port
				if c.other {
					get = other
				}
				d := serve(t, s, fmt.Sprintf("http://127.0.0.1:%d/", get), fmt.Sprintf(c.body, "default"))
				t.Logf("start to first 200: %v", d)
				if c.check != nil {
					c.check(t, prepared, port, uid)
				}
			})
		}
	}
}

// runBuild is the in-image binary, built once per test binary.
func runBuild(t *testing.T, ctx context.Context) string {
	t.Helper()
	bin, err := w.Scripts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// gunicorn, app.py, app.sh and Django in the minimal image, as 1001 and as
// an arbitrary uid: each answers 200 with its body, and the app sees a user
// name (nss_wrapper) in both cases.
func TestRunMinimal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := runBuild(t, ctx)
	prepared := runPrepare(t, ctx, "minimal", bin, "gunicorn==23.0.0", "flask", "django")
	flaskApp := `import os, pwd
from flask import Flask
app = Flask(__name__)

@app.route("/")
def index():
    return "flask via gunicorn as " + pwd.getpwuid(os.getuid()).pw_name
`
	cases := []runCase{
		{name: "wsgi.py", files: map[string]string{"wsgi.py": runWSGI("wsgi.py")}, env: []string{"PORT={PORT}"},
			body: "wsgi.py via gunicorn as %s"},
		{name: "APP_MODULE flask", files: map[string]string{"hello.py": flaskApp, "app.py": "raise SystemExit(9)"},
			env: []string{"PORT={PORT}", "APP_MODULE=hello:app"}, body: "flask via gunicorn as %s"},
		{name: "setup.py name", files: map[string]string{"setup.py": "from setuptools import setup\nsetup(name='setupapp', py_modules=['setupapp'])\n", "setupapp.py": runWSGI("setup.py")},
			env: []string{"PORT={PORT}"}, body: "setup.py via gunicorn as %s"},
		{name: "bare gunicorn.conf.py on another port", files: map[string]string{
			"gunicorn.conf.py": "wsgi_app = 'mymod:application'\nbind = '127.0.0.1:{OTHERPORT}'\n", "mymod.py": runWSGI("bare"), "app.py": "raise SystemExit(9)"},
			env: []string{"PORT={PORT}", "APP_MODULE=nope"}, other: true, body: "bare via gunicorn as %s"},
		{name: "APP_CONFIG without bind listens on PORT", files: map[string]string{"cfg/gunicorn_cfg.py": "workers = 2\n", "wsgi.py": runWSGI("config")},
			env: []string{"PORT={PORT}", "APP_CONFIG=cfg/gunicorn_cfg.py"}, body: "config via gunicorn as %s"},
		{name: "APP_CONFIG with bind", files: map[string]string{"gunicorn_cfg.py": "bind = '127.0.0.1:{OTHERPORT}'\n", "wsgi.py": runWSGI("config-bind")},
			env: []string{"PORT={PORT}", "APP_CONFIG=gunicorn_cfg.py"}, other: true, body: "config-bind via gunicorn as %s"},
		{name: "GUNICORN_CMD_ARGS quoted", files: map[string]string{"wsgi.py": runWSGI("cmdargs")},
			env: []string{`GUNICORN_CMD_ARGS=--bind 127.0.0.1:{PORT} --name "my app" --workers 1`}, body: "cmdargs via gunicorn as %s"},
		{name: "APP_HOME", files: map[string]string{"web/wsgi.py": runWSGI("apphome"), "wsgi.py": "raise SystemExit(9)"},
			env: []string{"PORT={PORT}", "APP_HOME=web"}, body: "apphome via gunicorn as %s"},
		{name: "app.py", files: map[string]string{"app.py": runServerPy, "appmod.py": runWSGI("app.py"), "wsgi.py": runWSGI("not me")},
			env: []string{"PORT={PORT}"}, body: "app.py via WSGIServer as %s"},
		{name: "app.py init wrapper", files: map[string]string{"app.py": runServerPy, "appmod.py": runWSGI("app.py")},
			env: []string{"PORT={PORT}", "ENABLE_INIT_WRAPPER=1"}, body: "app.py via WSGIServer as %s"},
		{name: "app.sh", files: map[string]string{"app.sh*": "#!/bin/sh\nexport WHO=\"$(whoami)\"\nexec python server.py\n", "server.py": runServerPy, "appmod.py": runWSGI("app.sh"), "app.py": "raise SystemExit(9)"},
			env: []string{"PORT={PORT}"}, body: "app.sh via WSGIServer as %[1]s whoami %[1]s"},
		{name: "app.sh without exec bit", files: map[string]string{"app.sh": "#!/bin/sh\nexport WHO=\"$(whoami)\"\nexec python server.py\n", "server.py": runServerPy, "appmod.py": runWSGI("app.sh")},
			env: []string{"PORT={PORT}", "ENABLE_INIT_WRAPPER=1"}, body: "app.sh via WSGIServer as %[1]s whoami %[1]s"},
		{name: "Django migrate and runserver", files: map[string]string{
			"manage.py": runDjangoManage, "mysite/__init__.py": "", "mysite/settings.py": runDjangoSettings, "mysite/urls.py": runDjangoURLs},
			env: []string{"PORT={PORT}"}, body: "django via runserver as %s",
			check: func(t *testing.T, state string, port int, uid uint32) {
				if fi, err := os.Stat(filepath.Join(state, "upper", harness.AppHome, "db.sqlite3")); err != nil || fi.Size() == 0 {
					t.Errorf("migrate did not create the database: %v", err)
				}
			}},
	}
	runCases(t, ctx, "minimal", prepared, bin, cases)
}

// mod_wsgi-express in the full image (where it compiles), chosen when
// gunicorn is absent or by APP_SERVER.
func TestRunFullModWSGI(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := runBuild(t, ctx)
	prepared := runPrepare(t, ctx, "full", bin, "mod_wsgi", "gunicorn==23.0.0")
	cases := []runCase{
		{name: "APP_SERVER=mod_wsgi wsgi.py", files: map[string]string{"wsgi.py": runWSGI("wsgi.py")},
			env: []string{"PORT={PORT}", "APP_SERVER=mod_wsgi"}, body: "wsgi.py via mod_wsgi as %s"},
		{name: "APP_SERVER=mod_wsgi APP_MODULE processes threads", files: map[string]string{"hello.py": runWSGI("hello")},
			env:  []string{"PORT={PORT}", "APP_SERVER=mod_wsgi", "APP_MODULE=hello:app", "MOD_WSGI_PROCESSES=2", "MOD_WSGI_THREADS=3"},
			body: "hello via mod_wsgi as %s",
			check: func(t *testing.T, state string, port int, uid uint32) {
				// The server root is a writable temp dir, with the
				// processes, threads and locale asked for.
				conf, err := os.ReadFile(filepath.Join(state, "upper", fmt.Sprintf("tmp/mod_wsgi-%d-%d/httpd.conf", port, uid)))
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range []string{"processes=2", "threads=3", "locale='en_US.UTF-8'"} {
					if !strings.Contains(string(conf), want) {
						t.Errorf("httpd.conf lacks %s", want)
					}
				}
			}},
		{name: "gunicorn preferred when both are installed", files: map[string]string{"wsgi.py": runWSGI("g23")},
			env: []string{"PORT={PORT}"}, body: "g23 via gunicorn as %s"},
	}
	runCases(t, ctx, "full", prepared, bin, cases)

	// Without gunicorn, mod_wsgi-express is chosen on its own.
	s, err := w.S2ISpec(ctx, "full", prepared, bin)
	if err != nil {
		t.Fatal(err)
	}
	sh(t, ctx, s, "pip uninstall -y -q gunicorn")
	runCases(t, ctx, "full", prepared, bin, []runCase{
		{name: "mod_wsgi without gunicorn", files: map[string]string{"wsgi.py": runWSGI("auto")},
			env: []string{"PORT={PORT}"}, body: "auto via mod_wsgi as %s"},
	})
}

// runOutput runs /usr/libexec/s2i/run to completion in a fresh stand-in and
// returns stdout, stderr and the exit status.
func runOutput(t *testing.T, ctx context.Context, bin string, uid uint32, files map[string]string, env []string) (string, string, int) {
	t.Helper()
	s := runCaseSpec(t, ctx, "minimal", t.TempDir(), bin, uid, files, env)
	var out, errb syncBuffer
	s.Stdout, s.Stderr = &out, &errb
	err := sandbox.Run(ctx, s)
	code := 0
	if err != nil {
		code = exitCode(err)
	}
	return out.String(), errb.String(), code
}

// The failure paths print upstream's messages on upstream's streams.
func TestRunMessages(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := runBuild(t, ctx)
	tests := []struct {
		name           string
		files          map[string]string
		env            []string
		stdout, stderr string
		code           int
	}{
		{name: "nothing to run", code: 1, stderr: "ERROR: don't know how to run your application.\n" +
			"Please set either APP_MODULE, APP_FILE or APP_SCRIPT environment variables, or create a file 'app.py' to launch your application.\n"},
		{name: "APP_SCRIPT missing", env: []string{"APP_SCRIPT=start.sh"}, code: 1, stdout: "ERROR: file 'start.sh' not found.\n"},
		{name: "APP_FILE missing", env: []string{"APP_FILE=main.py"}, code: 1, stdout: "ERROR: file 'main.py' not found.\n"},
		{name: "app.sh status", files: map[string]string{"app.sh*": "#!/bin/sh\necho \"$(id -u) $(whoami) $NSS_WRAPPER_PASSWD\"\nexit 7\n"}, code: 7,
			stdout: "---> Running application from script (./app.sh) ...\n12345 default /opt/app-root/etc/passwd\n"},
		{name: "app.sh without exec bit", files: map[string]string{"app.sh": "echo \"$0 ran\"\nexit 6\n"}, code: 6,
			stdout: "---> Running application from script (./app.sh) ...\nWARNING: './app.sh' is not executable (was its exec bit lost?); running it with /bin/sh.\n./app.sh ran\n"},
		{name: "unbalanced GUNICORN_CMD_ARGS", files: map[string]string{"wsgi.py": "", "/opt/app-root/bin/gunicorn*": "#!/bin/sh\nexit 0\n"},
			env: []string{`GUNICORN_CMD_ARGS=--name 'x`}, code: 1,
			stderr: "Warning: Can't detect", // cgroup warnings may precede; checked below
		},
		{name: "usage", files: map[string]string{"app.sh*": "#!/bin/sh\nexec /usr/libexec/s2i/usage\n"}, env: []string{"PYTHON_VERSION=3.11"}, code: 0,
			stdout: "---> Running application from script (./app.sh) ...\nThis is a S2I python-3.11 debian base image:\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each case has its own stand-in
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			out, errs, code := runOutput(t, ctx, bin, 12345, tt.files, tt.env)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errs)
			}
			switch tt.name {
			case "unbalanced GUNICORN_CMD_ARGS":
				if !strings.Contains(errs, "ERROR: GUNICORN_CMD_ARGS: unterminated single quote at position 8") {
					t.Errorf("stderr %q", errs)
				}
				return
			case "usage":
				if !strings.HasPrefix(out, tt.stdout) || !strings.Contains(out, "oc get pods") {
					t.Errorf("stdout %q", out)
				}
				return
			}
			if out != tt.stdout || errs != tt.stderr {
				t.Errorf("stdout %q stderr %q\nwant %q %q", out, errs, tt.stdout, tt.stderr)
			}
		})
	}
}

// runWaitHTTP starts s and waits until url answers 200 with want, then kills
// the sandbox; it returns the time from start to that answer.
func runWaitHTTP(s sandbox.Spec, url, want string) (time.Duration, error) {
	log := &syncBuffer{}
	s.Stdout, s.Stderr = log, log
	start := time.Now()
	p, err := sandbox.Start(s)
	if err != nil {
		return 0, err
	}
	defer func() { p.Kill(); p.Wait() }()
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Since(start) < 30*time.Second {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(body) == want {
				return time.Since(start), nil
			}
			return 0, fmt.Errorf("GET %s: %d %q\n%s", url, resp.StatusCode, body, log.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0, fmt.Errorf("no answer from %s within 30s\n%s", url, log.String())
}
