package run

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	venv = "/opt/app-root"
	src  = "/opt/app-root/src"
	site = venv + "/lib/python3.11/site-packages"
)

// image builds a fake image root: a venv at /opt/app-root with the given
// packages ("gunicorn-23.0.0", "django-3.2.25", "mod_wsgi-5.0.2") and the
// app files under src (a name ending in "*" is made executable).
func image(t *testing.T, pkgs []string, app map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		venv + "/pyvenv.cfg":       "home = /usr/bin\ninclude-system-site-packages = false\n",
		venv + "/bin/python*":      "",
		site + "/pip/__init__.py":  "",
		"/usr/lib/locale/C.utf8/x": "",
		"/etc/passwd":              "root:x:0:0:root:/root:/bin/bash\n",
		"/tmp/.keep":               "",
		src + "/.keep":             "",
		"/usr/bin/python3*":        "",
		"/usr/lib/python3/dist-packages/django/__init__.py": "", // system Django, not visible in the venv
	}
	for _, p := range pkgs {
		name, ver, _ := strings.Cut(p, "-")
		files[site+"/"+name+"-"+ver+".dist-info/METADATA"] = "Metadata-Version: 2.1\nName: " + name + "\nVersion: " + ver + "\n\nbody\n"
		files[site+"/"+name+"/__init__.py"] = ""
		switch name {
		case "gunicorn":
			files[venv+"/bin/gunicorn*"] = "#!/opt/app-root/bin/python\n"
		case "mod_wsgi":
			files[venv+"/bin/mod_wsgi-express*"] = "#!/opt/app-root/bin/python\n"
		case "django":
			files[venv+"/bin/django-admin*"] = ""
		}
	}
	for p, b := range app {
		if !strings.HasPrefix(p, "/") {
			p = src + "/" + p
		}
		files[p] = b
	}
	for p, body := range files {
		mode := os.FileMode(0o644)
		if q, ok := strings.CutSuffix(p, "*"); ok {
			p, mode = q, 0o755
		}
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

var baseEnv = []string{
	"PATH=" + venv + "/bin:/usr/bin:/bin", "HOME=" + src, "VIRTUAL_ENV=" + venv, "APP_ROOT=" + venv, "LANG=C.UTF-8",
}

func msgs(p Plan) string {
	var b strings.Builder
	for _, s := range p.Steps {
		if s.Cmd != nil {
			b.WriteString("RUN " + strings.Join(s.Cmd.Argv, " ") + " @" + s.Cmd.Dir + "\n")
			continue
		}
		if s.Stream == Stderr {
			b.WriteString("E: ")
		}
		b.WriteString(s.Text + "\n")
	}
	return b.String()
}

func envOf(c *Command, k string) (string, bool) {
	for _, kv := range c.Env {
		if v, ok := strings.CutPrefix(kv, k+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestDecide(t *testing.T) {
	const (
		g23   = "gunicorn-23.0.0"
		g20   = "gunicorn-20.0.4"
		dj    = "django-3.2.25"
		mw    = "mod_wsgi-5.0.2"
		flask = "flask-2.2.2"
	)
	limits := Limits{Memory: 512 << 20, HasMemory: true, Cores: 8} // 11 workers
	tests := []struct {
		name     string
		pkgs     []string
		app      map[string]string
		env      []string
		strategy Strategy
		argv     string // space-joined; "" for no exec
		dir      string
		wrapper  bool
		exit     int
		messages string
		envWant  map[string]string // "" value: must be absent
	}{
		{name: "wsgi.py default gunicorn", pkgs: []string{g23, flask}, app: map[string]string{"wsgi.py": ""},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src,
			messages: "---> Serving application with gunicorn (wsgi) with default settings ...\n",
			envWant:  map[string]string{"WEB_CONCURRENCY": "11", "PORT": "8080"}},
		{name: "APP_MODULE with PORT", pkgs: []string{g23}, env: []string{"APP_MODULE=hello:app", "PORT=9000"},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn hello:app --bind=0.0.0.0:9000 --access-logfile=- --config ", dir: src,
			messages: "---> Serving application with gunicorn (hello:app) with default settings ...\n",
			envWant:  map[string]string{"PORT": "9000"}},
		{name: "APP_MODULE disables app.py default", pkgs: []string{g23}, app: map[string]string{"app.py": "", "app.sh*": ""},
			env: []string{"APP_MODULE=app:app"}, strategy: Gunicorn, wrapper: true, argv: "gunicorn app:app --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src},
		{name: "APP_CONFIG custom", pkgs: []string{g23}, app: map[string]string{"wsgi.py": "", "conf.py": ""},
			env: []string{"APP_CONFIG=conf.py"}, strategy: Gunicorn, wrapper: true, argv: "gunicorn wsgi --config conf.py", dir: src,
			messages: "---> Serving application with gunicorn (wsgi) with custom settings ...\n", envWant: map[string]string{"PORT": "8080"}},
		{name: "GUNICORN_CMD_ARGS split with quotes", pkgs: []string{g23}, app: map[string]string{"wsgi.py": ""},
			env: []string{`GUNICORN_CMD_ARGS=--bind :8081 --name "my app"`}, strategy: Gunicorn, wrapper: true,
			argv: "gunicorn wsgi --bind :8081 --name my app --config ", dir: src},
		{name: "GUNICORN_CMD_ARGS unbalanced", pkgs: []string{g23}, app: map[string]string{"wsgi.py": ""},
			env: []string{`GUNICORN_CMD_ARGS=--name "my app`}, strategy: Fail, exit: 1,
			messages: "E: ERROR: GUNICORN_CMD_ARGS: unterminated double quote at position 8 of \"--name \\\"my app\"\n"},
		{name: "WEB_CONCURRENCY kept", pkgs: []string{g23}, app: map[string]string{"wsgi.py": ""}, env: []string{"WEB_CONCURRENCY=3"},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src,
			envWant: map[string]string{"WEB_CONCURRENCY": "3"}},
		{name: "setup.py name read statically", pkgs: []string{g23}, app: map[string]string{"setup.py": `setup(name="testapp")`},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn testapp --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src,
			messages: "---> Serving application with gunicorn (testapp) with default settings ...\n"},
		{name: "setup.py name via python fallback", pkgs: []string{g23}, app: map[string]string{"pkg/setup.py": `setup(name=NAME)`},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn from-python --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src},
		{name: "wsgi.py beats setup.py", pkgs: []string{g23}, app: map[string]string{"setup.py": `setup(name="x")`, "wsgi.py": ""},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src},
		{name: "bare gunicorn.conf.py", pkgs: []string{g23}, app: map[string]string{"gunicorn.conf.py": "wsgi_app = 'hello:app'\n", "app.py": "", "wsgi.py": ""},
			env: []string{"APP_MODULE=x", "APP_HOME=/tmp", "PORT=1"}, strategy: BareGunicorn, wrapper: true, argv: "gunicorn", dir: src,
			messages: "---> Using gunicorn.conf.py\n---> Serving application with gunicorn ...\n",
			envWant:  map[string]string{"WEB_CONCURRENCY": "", "PORT": "1"}},
		{name: "bare mode needs gunicorn 20.1", pkgs: []string{g20}, app: map[string]string{"gunicorn.conf.py": "wsgi_app = 'hello:app'\n", "wsgi.py": ""},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src},
		{name: "bare mode needs wsgi_app", pkgs: []string{g23}, app: map[string]string{"gunicorn.conf.py": "bind = ':1'\n", "wsgi.py": ""},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src},
		{name: "app.sh first", pkgs: []string{g23}, app: map[string]string{"app.sh*": "#!/bin/sh\n", "app.py": "", "wsgi.py": ""},
			strategy: Script, argv: "./app.sh", dir: src, messages: "---> Running application from script (./app.sh) ...\n"},
		{name: "app.sh init wrapper", app: map[string]string{"app.sh*": "#!/bin/sh\n"}, env: []string{"ENABLE_INIT_WRAPPER=false"},
			strategy: Script, argv: "./app.sh", dir: src, wrapper: true},
		{name: "app.sh without exec bit, bash shebang", app: map[string]string{"app.sh": "#!/bin/bash -e\necho\n"},
			strategy: Script, argv: "/bin/bash -e ./app.sh", dir: src,
			messages: "---> Running application from script (./app.sh) ...\nWARNING: './app.sh' is not executable (was its exec bit lost?); running it with /bin/bash -e.\n"},
		{name: "app.sh without exec bit, no shebang", app: map[string]string{"app.sh": "echo\n"},
			strategy: Script, argv: "/bin/sh ./app.sh", dir: src},
		{name: "APP_SCRIPT absolute", app: map[string]string{"/srv/start*": ""}, env: []string{"APP_SCRIPT=/srv/start"},
			strategy: Script, argv: "/srv/start", dir: src, messages: "---> Running application from script (/srv/start) ...\n"},
		{name: "APP_SCRIPT missing", pkgs: []string{g23}, app: map[string]string{"wsgi.py": ""}, env: []string{"APP_SCRIPT=run.sh"},
			strategy: Fail, exit: 1, messages: "ERROR: file 'run.sh' not found.\n"},
		{name: "app.py", pkgs: []string{g23}, app: map[string]string{"app.py": "", "wsgi.py": ""}, env: []string{"ENABLE_INIT_WRAPPER=1"},
			strategy: File, argv: "python app.py", dir: src, wrapper: true,
			messages: "---> Running application from Python script (app.py) ...\n", envWant: map[string]string{"PORT": ""}},
		{name: "APP_FILE missing", app: map[string]string{"app.py": ""}, env: []string{"APP_FILE=main.py"},
			strategy: Fail, exit: 1, messages: "ERROR: file 'main.py' not found.\n"},
		{name: "empty APP_FILE still default", app: map[string]string{"app.py": ""}, env: []string{"APP_FILE="},
			strategy: File, argv: "python app.py", dir: src},
		{name: "APP_HOME", pkgs: []string{g23}, app: map[string]string{"sub/wsgi.py": "", "wsgi.py": ""}, env: []string{"APP_HOME=sub"},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src + "/sub"},
		{name: "APP_HOME app.py", app: map[string]string{"sub/app.py": ""}, env: []string{"APP_HOME=" + src + "/sub"},
			strategy: File, argv: "python app.py", dir: src + "/sub"},
		{name: "APP_HOME missing", env: []string{"APP_HOME=nope"}, strategy: Fail, exit: 1,
			messages: "E: ERROR: APP_HOME directory '/opt/app-root/src/nope' not found.\n"},
		{name: "PYTHONPATH exported only when it was", pkgs: []string{g23}, app: map[string]string{"sub/wsgi.py": ""},
			env: []string{"APP_HOME=sub", "PYTHONPATH=/lib/x"}, strategy: Gunicorn, wrapper: true, dir: src + "/sub",
			argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", envWant: map[string]string{"PYTHONPATH": src + ":/lib/x"}},
		{name: "PYTHONPATH unset stays unset", pkgs: []string{g23}, app: map[string]string{"wsgi.py": ""}, strategy: Gunicorn, wrapper: true,
			argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src, envWant: map[string]string{"PYTHONPATH": ""}},
		{name: "django migrate then gunicorn", pkgs: []string{g23, dj}, app: map[string]string{"manage.py": "", "wsgi.py": ""},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src,
			messages: "---> Migrating database ...\nRUN python ./manage.py migrate --noinput @/opt/app-root/src\n---> Serving application with gunicorn (wsgi) with default settings ...\n"},
		{name: "django runserver", pkgs: []string{dj}, app: map[string]string{"manage.py": ""}, env: []string{"PORT=8000", "ENABLE_INIT_WRAPPER=y"},
			strategy: Runserver, argv: "python ./manage.py runserver 0.0.0.0:8000", dir: src, wrapper: true,
			messages: "---> Migrating database ...\nRUN python ./manage.py migrate --noinput @/opt/app-root/src\n" +
				"---> Serving application with 'manage.py runserver 0.0.0.0:8000' ...\n" +
				"WARNING: this is NOT a recommended way to run you application in production!\n" +
				"Consider using gunicorn or some other production web server.\n",
			envWant: map[string]string{"PORT": "8000"}},
		{name: "django DISABLE_MIGRATE", pkgs: []string{dj}, app: map[string]string{"manage.py": ""}, env: []string{"DISABLE_MIGRATE=0"},
			strategy: Runserver, argv: "python ./manage.py runserver 0.0.0.0:8080", dir: src,
			messages: "---> Serving application with 'manage.py runserver 0.0.0.0:8080' ...\n" +
				"WARNING: this is NOT a recommended way to run you application in production!\n" +
				"Consider using gunicorn or some other production web server.\n"},
		{name: "django without manage.py", pkgs: []string{dj}, strategy: Fail, exit: 1,
			messages: "WARNING: seems that you're using Django, but we could not find a 'manage.py' file.\nSkipped 'python manage.py migrate'.\n" +
				"WARNING: seems that you're using Django, but we could not find a 'manage.py' file.\nSkipped 'python manage.py runserver'.\n" +
				"E: ERROR: don't know how to run your application.\n" +
				"E: Please set either APP_MODULE, APP_FILE or APP_SCRIPT environment variables, or create a file 'app.py' to launch your application.\n"},
		{name: "gunicorn without module falls to error", pkgs: []string{g23}, strategy: Fail, exit: 1,
			messages: "E: ERROR: don't know how to run your application.\n" +
				"E: Please set either APP_MODULE, APP_FILE or APP_SCRIPT environment variables, or create a file 'app.py' to launch your application.\n"},
		{name: "system django is not the venv's", strategy: Fail, exit: 1, app: map[string]string{"manage.py": ""},
			messages: "E: ERROR: don't know how to run your application.\n" +
				"E: Please set either APP_MODULE, APP_FILE or APP_SCRIPT environment variables, or create a file 'app.py' to launch your application.\n"},
		{name: "django in app dir is importable", app: map[string]string{"manage.py": "", "django/__init__.py": ""}, env: []string{"DISABLE_MIGRATE=1"},
			strategy: Runserver, argv: "python ./manage.py runserver 0.0.0.0:8080", dir: src},
		{name: "mod_wsgi when no gunicorn", pkgs: []string{mw}, app: map[string]string{"wsgi.py": ""}, env: []string{"PORT=8085"},
			strategy: ModWSGI, dir: src,
			argv:     "mod_wsgi-express start-server --application-type module --callable-object application --port 8085 --processes 11 --threads 5 --log-to-terminal --access-log --server-root /tmp/mod_wsgi-8085-1001 --locale C.UTF-8 wsgi",
			messages: "---> Serving application with mod_wsgi-express (wsgi) on port 8085 with 11 processes and 5 threads ...\n"},
		{name: "mod_wsgi forced with overrides", pkgs: []string{g23, mw}, env: []string{"APP_SERVER=mod_wsgi", "APP_MODULE=hello:app", "MOD_WSGI_PROCESSES=2", "MOD_WSGI_THREADS=3", "TMPDIR=/var/tmp", "LC_ALL=de_DE.UTF-8"},
			strategy: ModWSGI, dir: src,
			argv: "mod_wsgi-express start-server --application-type module --callable-object app --port 8080 --processes 2 --threads 3 --log-to-terminal --access-log --server-root /var/tmp/mod_wsgi-8080-1001 --locale C.UTF-8 hello"},
		{name: "mod_wsgi forced skips bare gunicorn", pkgs: []string{g23, mw}, app: map[string]string{"gunicorn.conf.py": "wsgi_app='wsgi'", "wsgi.py": ""},
			env: []string{"APP_SERVER=mod_wsgi", "WEB_CONCURRENCY=4"}, strategy: ModWSGI, dir: src,
			argv: "mod_wsgi-express start-server --application-type module --callable-object application --port 8080 --processes 4 --threads 5 --log-to-terminal --access-log --server-root /tmp/mod_wsgi-8080-1001 --locale C.UTF-8 wsgi"},
		{name: "gunicorn forced", pkgs: []string{g23, mw}, app: map[string]string{"wsgi.py": ""}, env: []string{"APP_SERVER=gunicorn"},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src},
		{name: "gunicorn forced but missing", pkgs: []string{mw}, app: map[string]string{"wsgi.py": ""}, env: []string{"APP_SERVER=gunicorn"},
			strategy: Fail, exit: 1, messages: "E: ERROR: APP_SERVER is 'gunicorn' but gunicorn was not found in PATH.\n"},
		{name: "bad APP_SERVER", env: []string{"APP_SERVER=uwsgi"}, strategy: Fail, exit: 1,
			messages: "E: ERROR: APP_SERVER must be 'gunicorn' or 'mod_wsgi', not 'uwsgi'.\n"},
		{name: "mod_wsgi bad processes", pkgs: []string{mw}, app: map[string]string{"wsgi.py": ""}, env: []string{"MOD_WSGI_PROCESSES=many"},
			strategy: Fail, exit: 1, messages: "E: ERROR: MOD_WSGI_PROCESSES (or WEB_CONCURRENCY) must be a positive integer, not 'many'.\n"},
		{name: "mod_wsgi factory callable refused", pkgs: []string{mw}, env: []string{"APP_MODULE=app:create()"},
			strategy: Fail, exit: 1, messages: "E: ERROR: mod_wsgi-express needs APP_MODULE as 'module' or 'module:callable', not 'app:create()'.\n"},
		{name: "wsgi_app only in a comment still counts (grep)", pkgs: []string{g23}, app: map[string]string{"gunicorn.conf.py": "# no wsgi_app here\n"},
			strategy: BareGunicorn, wrapper: true, argv: "gunicorn", dir: src},
		{name: "empty PORT means 8080", pkgs: []string{g23}, app: map[string]string{"wsgi.py": ""}, env: []string{"PORT="},
			strategy: Gunicorn, wrapper: true, argv: "gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src, envWant: map[string]string{"PORT": "8080"}},
		{name: "django and gunicorn without a module: migrate then runserver", pkgs: []string{g23, dj}, app: map[string]string{"manage.py": "", "mysite/wsgi.py": ""},
			strategy: Runserver, argv: "python ./manage.py runserver 0.0.0.0:8080", dir: src,
			messages: "---> Migrating database ...\nRUN python ./manage.py migrate --noinput @/opt/app-root/src\n" +
				"---> Serving application with 'manage.py runserver 0.0.0.0:8080' ...\n" +
				"WARNING: this is NOT a recommended way to run you application in production!\n" +
				"Consider using gunicorn or some other production web server.\n"},
		{name: "setup.py under HOME, not APP_HOME", pkgs: []string{g23}, app: map[string]string{"setup.py": "setup(name='toplevel')", "web/index.html": ""},
			env: []string{"APP_HOME=web"}, strategy: Gunicorn, wrapper: true, argv: "gunicorn toplevel --bind=0.0.0.0:8080 --access-logfile=- --config ", dir: src + "/web"},
		{name: "setup.py fallback fails", pkgs: []string{g23}, app: map[string]string{"setup.py": "setup(name=NAME)"},
			strategy: Fail, exit: 1, messages: "E: ERROR: cannot read the application name from /opt/app-root/src/setup.py: unexpected call\n"},
		{name: "app.sh without exec bit, env shebang", app: map[string]string{"app.sh": "#!/usr/bin/env bash\n"},
			strategy: Script, argv: "/usr/bin/env bash ./app.sh", dir: src},
		{name: "nothing", strategy: Fail, exit: 1,
			messages: "E: ERROR: don't know how to run your application.\n" +
				"E: Please set either APP_MODULE, APP_FILE or APP_SCRIPT environment variables, or create a file 'app.py' to launch your application.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := image(t, tt.pkgs, tt.app)
			p := Decide(Input{
				Env: append(append([]string(nil), baseEnv...), tt.env...), Root: root, Dir: src, UID: 1001, Limits: limits,
				SetupPyName: func(setupPy, dir string, env []string) (string, error) {
					if setupPy != src+"/pkg/setup.py" || dir != src {
						return "", errors.New("unexpected call")
					}
					return "from-python\n", nil
				},
			})
			if p.Strategy != tt.strategy || p.Exit != tt.exit || p.InitWrapper != tt.wrapper {
				t.Errorf("strategy %q exit %d wrapper %v, want %q %d %v\n%s", p.Strategy, p.Exit, p.InitWrapper, tt.strategy, tt.exit, tt.wrapper, msgs(p))
			}
			argv, dir := "", ""
			if p.Exec != nil {
				argv, dir = strings.Join(p.Exec.Argv, " "), p.Exec.Dir
			}
			if argv != tt.argv || dir != tt.dir {
				t.Errorf("exec %q in %q, want %q in %q", argv, dir, tt.argv, tt.dir)
			}
			if tt.messages != "" && msgs(p) != tt.messages {
				t.Errorf("messages:\n%s\nwant:\n%s", msgs(p), tt.messages)
			}
			for k, want := range tt.envWant {
				got, ok := envOf(p.Exec, k)
				if want == "" && ok {
					t.Errorf("%s=%q exported, want it absent", k, got)
				} else if want != "" && got != want {
					t.Errorf("%s=%q, want %q", k, got, want)
				}
			}
		})
	}
}

// cgroup-limits' warnings are printed only when a worker count is computed.
func TestDecideLimitWarnings(t *testing.T) {
	root := image(t, []string{"gunicorn-23.0.0"}, map[string]string{"wsgi.py": "", "app.py": ""})
	l := Limits{Cores: 2, Warnings: []string{"Warning: Can't detect memory limit from cgroups"}}
	p := Decide(Input{Env: append(baseEnv, "APP_MODULE=wsgi"), Root: root, Dir: src, Limits: l})
	want := "E: Warning: Can't detect memory limit from cgroups\n---> Serving application with gunicorn (wsgi) with default settings ...\n"
	if msgs(p) != want {
		t.Errorf("got\n%s\nwant\n%s", msgs(p), want)
	}
	if v, _ := envOf(p.Exec, "WEB_CONCURRENCY"); v != "4" {
		t.Errorf("WEB_CONCURRENCY=%s, want 4", v)
	}
	p = Decide(Input{Env: baseEnv, Root: root, Dir: src, Limits: l})
	if p.Strategy != File || strings.Contains(msgs(p), "Warning") {
		t.Errorf("app.py path printed limits warnings or chose %s:\n%s", p.Strategy, msgs(p))
	}
}

// Decide's environment is otherwise passed through unchanged and in order.
func TestDecideEnvPassThrough(t *testing.T) {
	root := image(t, nil, map[string]string{"app.py": ""})
	env := append(append([]string(nil), baseEnv...), "A=1", "B=two words")
	p := Decide(Input{Env: env, Root: root, Dir: src})
	if !reflect.DeepEqual(p.Exec.Env, env) {
		t.Errorf("env %q, want %q", p.Exec.Env, env)
	}
}
