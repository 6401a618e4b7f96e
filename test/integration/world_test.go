package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/test/world/pyindex"
)

// newest is the version pip picks of a project from the world's index (its
// lock): what an unpinned install gets.
func newest(t *testing.T, name string) string {
	t.Helper()
	v := pyindex.DefaultLock().Newest(name)
	if v == "" {
		t.Fatalf("the world's index has no %s", name)
	}
	return v
}

const flaskApp = `from flask import Flask
app = Flask(__name__)

@app.route("/")
def index():
    return "hello from flask on gunicorn"
`

// The python-minimal stand-in: pip installs flask and gunicorn from the local
// index into a venv as uid 1001, and gunicorn answers on loopback.
func TestMinimalPipInstallGunicornServes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	state := t.TempDir()
	app := appDir(t, map[string]string{"app.py": flaskApp})
	s := spec(t, "minimal", state)
	s.Mounts = []sandbox.Mount{{Source: app, Target: "/srv/app", ReadOnly: true}}
	out := sh(t, ctx, s, fmt.Sprintf(`python3 -m venv /tmp/venv
/tmp/venv/bin/pip install --index-url %s flask gunicorn
/tmp/venv/bin/python -c 'import flask, gunicorn; print("versions", flask.__version__, gunicorn.__version__)'
id -u; id -g`, w.Index.URL))
	if want := fmt.Sprintf("versions %s %s", newest(t, "flask"), newest(t, "gunicorn")); !strings.Contains(out, "Successfully installed") || !strings.Contains(out, want) {
		t.Fatalf("pip install flask gunicorn:\n%s", out)
	}
	if !strings.HasSuffix(strings.TrimSpace(out), "1001\n0") {
		t.Errorf("want uid 1001 gid 0 at the end of:\n%s", out)
	}
	port := freePort(t)
	s.Args = []string{"/tmp/venv/bin/gunicorn", "--bind", fmt.Sprintf("127.0.0.1:%d", port), "--chdir", "/srv/app", "app:app"}
	d := serve(t, s, fmt.Sprintf("http://127.0.0.1:%d/", port), "hello from flask on gunicorn")
	t.Logf("gunicorn start to first 200: %v", d)
}

// gunicorn 20.1 is there too, for version-dependent behaviour.
func TestIndexHasBothGunicorns(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := sh(t, ctx, spec(t, "minimal", t.TempDir()), fmt.Sprintf(`python3 -m venv /tmp/v
/tmp/v/bin/pip install --index-url %s gunicorn==20.1.0 >/dev/null
/tmp/v/bin/gunicorn --version`, w.Index.URL))
	if !strings.Contains(out, "20.1.0") {
		t.Fatalf("gunicorn 20.1.0 not installed:\n%s", out)
	}
}

// numpy's manylinux wheel bundles its BLAS/LAPACK (numpy.libs), which the
// minimal image lacks.
func TestMinimalImportsNumpy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out := sh(t, ctx, spec(t, "minimal", t.TempDir()), fmt.Sprintf(`test ! -e /usr/lib/x86_64-linux-gnu/libblas.so.3
python3 -m venv /tmp/v
/tmp/v/bin/pip install --index-url %s numpy >/dev/null
ls /tmp/v/lib/python3.11/site-packages/numpy.libs | grep -q openblas
/tmp/v/bin/python -c 'import numpy; a = numpy.array([[2.0, 1.0], [1.0, 3.0]]); print("inv", numpy.linalg.inv(a).round(2).tolist(), numpy.__version__)'`, w.Index.URL))
	if !strings.Contains(out, "inv [[0.6, -0.2], [-0.2, 0.4]]") {
		t.Fatalf("numpy in python-minimal:\n%s", out)
	}
}

// The minimal image has no compiler: a package that must compile fails there.
func TestMinimalCannotCompileModWSGI(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := spec(t, "minimal", t.TempDir(), "/bin/sh", "-c", fmt.Sprintf(`! command -v gcc
python3 -m venv /tmp/v && /tmp/v/bin/pip install --index-url %s mod_wsgi`, w.Index.URL))
	var out strings.Builder
	s.Stdout, s.Stderr = &out, &out
	err := sandbox.Run(ctx, s)
	if err == nil {
		t.Fatalf("mod_wsgi installed in python-minimal, which has no compiler:\n%s", out.String())
	}
	if exitCode(err) != 1 || !strings.Contains(out.String(), "mod_wsgi-"+newest(t, "mod_wsgi")+".tar.gz") {
		t.Fatalf("want pip to fail building mod_wsgi from its sdist (exit 1), got %v:\n%s", err, out.String())
	}
}

// The python-full stand-in compiles mod_wsgi from its sdist, and
// mod_wsgi-express serves a WSGI app on loopback.
func TestFullModWSGIExpressServes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	state := t.TempDir()
	app := appDir(t, map[string]string{"wsgi.py": `def application(environ, start_response):
    body = b"hello from mod_wsgi"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
`})
	s := spec(t, "full", state)
	s.Mounts = []sandbox.Mount{{Source: app, Target: "/srv/app", ReadOnly: true}}
	out := sh(t, ctx, s, fmt.Sprintf(`python3 -m venv /tmp/venv
/tmp/venv/bin/pip install --index-url %s mod_wsgi
/tmp/venv/bin/mod_wsgi-express module-location`, w.Index.URL))
	if !strings.Contains(out, "Successfully installed mod_wsgi-"+newest(t, "mod_wsgi")) {
		t.Fatalf("pip install mod_wsgi in python-full:\n%s", out)
	}
	port := freePort(t)
	s.Args = []string{"/tmp/venv/bin/mod_wsgi-express", "start-server", "/srv/app/wsgi.py",
		"--host", "127.0.0.1", "--port", fmt.Sprint(port), "--server-root", "/tmp/mod_wsgi-server",
		"--locale", "C.UTF-8", "--log-to-terminal"}
	d := serve(t, s, fmt.Sprintf("http://127.0.0.1:%d/", port), "hello from mod_wsgi")
	t.Logf("mod_wsgi-express start to first 200: %v", d)
}

// A Pipfile.lock made against the local index (by the index's own pipenv)
// installs with `pipenv install --deploy`, hashes checked.
func TestPipenvLockAndDeploy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	app := appDir(t, map[string]string{"Pipfile": fmt.Sprintf(`[[source]]
url = "%s"
verify_ssl = false
name = "local"

[packages]
requests = "*"

[requires]
python_version = "3.11"
`, w.Index.URL)})
	s := spec(t, "minimal", t.TempDir())
	s.Mounts = []sandbox.Mount{{Source: app, Target: "/srv/app", ReadOnly: true}}
	s.Env = append(s.Env, "PIPENV_VENV_IN_PROJECT=1", "PIPENV_NOSPIN=1", "PIPENV_YES=1", "PIPENV_IGNORE_VIRTUALENVS=1")
	out := sh(t, ctx, s, fmt.Sprintf(`python3 -m venv /tmp/tools
/tmp/tools/bin/pip install --index-url %s pipenv >/dev/null
mkdir /tmp/lock && cp /srv/app/Pipfile /tmp/lock/ && cd /tmp/lock
/tmp/tools/bin/pipenv lock
mkdir /tmp/proj && cp /srv/app/Pipfile /tmp/lock/Pipfile.lock /tmp/proj/ && cd /tmp/proj
/tmp/tools/bin/pipenv install --deploy
.venv/bin/python -c 'import requests, urllib3; print("deployed", requests.__version__)'
grep -c '"sha256:' Pipfile.lock`, w.Index.URL))
	if !strings.Contains(out, "deployed "+newest(t, "requests")) {
		t.Fatalf("pipenv lock + install --deploy:\n%s", out)
	}
}
