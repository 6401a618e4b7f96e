package integration

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// asmTestdata reads a file of testdata (lock files made with the world's
// pipenv and poetry against its index; see testdata/README.md).
func asmTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ENABLE_PIPENV with Pipfile and Pipfile.lock: pipenv in its own tool venv
// (PIN_PIPENV_VERSION), linked from ~/.local/bin, `pipenv install --deploy`
// into the app venv.
func TestAssemblePipenvDeploy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	b := asmNewBox(t, ctx, "minimal", map[string]string{
		"Pipfile":      asmTestdata(t, "pipenv-flask/Pipfile"),
		"Pipfile.lock": asmTestdata(t, "pipenv-flask/Pipfile.lock"),
		"wsgi.py":      asmFlaskApp,
	})
	out := b.mustAssemble("ENABLE_PIPENV=1", "PIN_PIPENV_VERSION=2023.11.14")
	asmInOrder(t, out,
		"---> Installing application source ...",
		"---> Installing pipenv packaging tool ...",
		"Successfully installed",
		"---> Installing dependencies via pipenv ...",
	)
	got := b.sh(`readlink $HOME/.local/bin/pipenv
/opt/app-root/src/.local/venvs/pipenv/bin/pip show pipenv | sed -n 2p
cd /tmp && python -c 'import flask, requests, six; print(flask.__version__, requests.__version__)'
python -c 'import packaging' 2>/dev/null && echo dev-installed || echo no-dev`)
	want := "/opt/app-root/src/.local/venvs/pipenv/bin/pipenv\nVersion: 2023.11.14\n2.2.2 " + newest(t, "requests") + "\nno-dev\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s\noutput:\n%s", got, want, out)
	}
}

// ENABLE_PIPENV with only requirements.txt: `pipenv install -r requirements.txt`.
func TestAssemblePipenvRequirements(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// pipenv turns requirements.txt into a Pipfile whose source is PyPI
	// unless PIPENV_PYPI_MIRROR says otherwise (as with upstream's image).
	b := asmNewBox(t, ctx, "minimal", map[string]string{"requirements.txt": "six==1.16.0\n"})
	out := b.mustAssemble("ENABLE_PIPENV=yes", "PIPENV_PYPI_MIRROR="+w.Index.URL)
	asmInOrder(t, out, "---> Installing pipenv packaging tool ...", "---> Installing dependencies via pipenv ...")
	if got := b.sh(`cd /tmp && python -c 'import six; print(six.__version__)'`); got != "1.16.0\n" {
		t.Errorf("import six: %q\n%s", got, out)
	}
	if strings.Contains(out, "---> Installing dependencies ...") {
		t.Errorf("plain pip branch ran too:\n%s", out)
	}
}
