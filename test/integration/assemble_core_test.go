package integration

import (
	"context"
	"strings"
	"testing"
	"time"
)

const asmFlaskApp = `from flask import Flask
application = Flask(__name__)

@application.route("/")
def hello():
    return "hello"
`

// requirements.txt in both images: source moved with dotfiles, pip.ini
// appended, dependencies installed from the local index, importable, and the
// venv fixed for group 0.
func TestAssembleRequirements(t *testing.T) {
	t.Parallel()
	for _, variant := range []string{"minimal", "full"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			b := asmNewBox(t, ctx, variant, map[string]string{
				"requirements.txt":     "flask==2.2.2\nwerkzeug<3\ngunicorn==20.1.0\n",
				"wsgi.py":              asmFlaskApp,
				".s2i/environment":     "APP_MODULE=wsgi\n",
				".hidden":              "dot\n",
				"sub/.config/x.txt":    "x\n",
				"sub/package/__init__": "",
			})
			out := b.mustAssemble()
			asmInOrder(t, out,
				"---> Installing application source ...",
				"---> Creating pip.ini config file",
				"---> Installing dependencies ...",
				"Successfully installed",
			)
			for _, bad := range []string{"Installing dependencies via", "Installing application (via", "Collecting Django"} {
				if strings.Contains(out, bad) {
					t.Errorf("unexpected %q in output:\n%s", bad, out)
				}
			}
			got := b.sh(`cd $HOME && ls -A | LC_ALL=C sort | tr '\n' ' '; echo; ls -A /tmp/src | wc -l; cat pip.ini
python -c 'import flask, gunicorn, werkzeug; print(flask.__version__, gunicorn.__version__)'
stat -c '%g %A' /opt/app-root/lib/python3*/site-packages/flask/app.py /opt/app-root/bin/gunicorn`)
			want := ".hidden .s2i pip.ini requirements.txt sub wsgi.py \n0\n[global]\nindex-url = " + w.Index.URL + "\n2.2.2 20.1.0\n0 -rw-rw-r--\n0 -rwxrwxr-x\n"
			if got != want {
				t.Errorf("after assemble:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// The pipenv+micropipenv conflict: exit 3 and nothing moved.
func TestAssembleConflict(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := asmNewBox(t, ctx, "minimal", map[string]string{"requirements.txt": "six\n"})
	out, code := b.assemble("ENABLE_PIPENV=1", "ENABLE_MICROPIPENV=false")
	if code != 3 || out != "ERROR: Pipenv and micropipenv cannot be enabled at the same time!\n" {
		t.Errorf("exit %d, output %q", code, out)
	}
	if got := b.sh(`ls -A /tmp/src; ls -A $HOME | wc -l`); got != "requirements.txt\n0\n" {
		t.Errorf("source moved anyway: %q", got)
	}
}

// setup.py with setup.cfg and pyproject.toml: `pip install .` twice; the
// DISABLE_ variables skip each.
func TestAssembleSetupAndPyproject(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"requirements.txt": "six==1.16.0\n",
		"setup.py":         "from setuptools import setup\nsetup()\n",
		"setup.cfg":        "[metadata]\nname = asmapp\nversion = 1.0\n[options]\npy_modules = asmapp\ninstall_requires = packaging\n",
		"pyproject.toml":   "[build-system]\nrequires = [\"setuptools\", \"wheel\"]\nbuild-backend = \"setuptools.build_meta\"\n",
		"asmapp.py":        "VALUE = 42\n",
	}
	for _, tc := range []struct {
		name       string
		env        []string
		setup, pyp bool
	}{
		{"both", nil, true, true},
		{"no-setup", []string{"DISABLE_SETUP_PY_PROCESSING=0"}, false, true},
		{"no-pyproject", []string{"DISABLE_PYPROJECT_TOML_PROCESSING=false"}, true, false},
		{"neither", []string{"DISABLE_SETUP_PY_PROCESSING=1", "DISABLE_PYPROJECT_TOML_PROCESSING=1"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			b := asmNewBox(t, ctx, "minimal", files)
			out := b.mustAssemble(tc.env...)
			if got := strings.Contains(out, "---> Installing application (via setup.{py,cfg})..."); got != tc.setup {
				t.Errorf("setup.py step ran=%v, want %v:\n%s", got, tc.setup, out)
			}
			if got := strings.Contains(out, "---> Installing application (via pyproject.toml)..."); got != tc.pyp {
				t.Errorf("pyproject step ran=%v, want %v:\n%s", got, tc.pyp, out)
			}
			if n := strings.Count(out, "Successfully installed asmapp-1.0"); (n == 2) != (tc.setup && tc.pyp) {
				t.Errorf("asmapp installed %d times:\n%s", n, out)
			}
			want := "42\n"
			if !tc.setup && !tc.pyp {
				want = "absent\n"
			}
			got := b.sh(`cd /tmp && python -c 'import six, asmapp, packaging; print(asmapp.VALUE)' 2>/dev/null || echo absent`)
			if got != want {
				t.Errorf("import: %q, want %q", got, want)
			}
		})
	}
}

// A poetry-core project is installed with `pip install .` (pyproject only).
func TestAssemblePoetryCoreProject(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := asmNewBox(t, ctx, "minimal", map[string]string{
		"pyproject.toml": `[tool.poetry]
name = "poetryapp"
version = "0.1.0"
description = ""
authors = ["x <x@example.com>"]
packages = [{include = "poetryapp"}]

[tool.poetry.dependencies]
python = "^3.9"
six = "*"

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
`,
		"poetryapp/__init__.py": "NAME = 'poetryapp'\n",
	})
	out := b.mustAssemble()
	asmInOrder(t, out, "---> Installing application (via pyproject.toml)...", "Successfully installed")
	if got := b.sh(`cd /tmp && python -c 'import poetryapp, six; print(poetryapp.NAME)'`); got != "poetryapp\n" {
		t.Errorf("import: %q", got)
	}
}

// UPGRADE_PIP_TO_LATEST upgrades from the index (wheel is new to the venv).
func TestAssembleUpgradePip(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := asmNewBox(t, ctx, "minimal", map[string]string{"app.py": "print('x')\n"})
	out := b.mustAssemble("UPGRADE_PIP_TO_LATEST=1")
	asmInOrder(t, out, "---> Installing application source ...", "---> Upgrading pip, setuptools and wheel to latest version ...", "wheel")
	if strings.Contains(out, "WARNING") {
		t.Errorf("retry taken:\n%s", out)
	}
	if got := b.sh(`/opt/app-root/bin/pip show wheel | sed -n 1p`); got != "Name: wheel\n" {
		t.Errorf("wheel: %q", got)
	}
}

// Credentials in PIP_INDEX_URL never show up in the output, nor in pip.ini,
// which stays in the image: it gets the URL without them.
func TestAssembleMasksCredentials(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := asmNewBox(t, ctx, "minimal", map[string]string{"requirements.txt": "six==1.16.0\n"})
	url := strings.Replace(w.Index.URL, "http://", "http://asmuser:s3cr3t@", 1)
	out := b.mustAssemble("PIP_INDEX_URL="+url, "PIP_VERBOSE=1")
	if strings.Contains(out, "s3cr3t") || strings.Contains(out, "asmuser") {
		t.Errorf("credentials printed:\n%s", out)
	}
	if !strings.Contains(out, "http://***@127.0.0.1") {
		t.Errorf("no masked URL in the output:\n%s", out)
	}
	if !strings.Contains(out, "---> pip.ini: the index URL is written without its credentials") {
		t.Errorf("the log does not say that pip.ini has no credentials:\n%s", out)
	}
	if got, want := b.sh(`cat $HOME/pip.ini`), "[global]\nindex-url = "+w.Index.URL+"\n"; got != want {
		t.Errorf("pip.ini = %q, want %q", got, want)
	}
}
