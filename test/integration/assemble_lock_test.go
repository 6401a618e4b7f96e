package integration

import (
	"context"
	"strings"
	"testing"
	"time"
)

// ENABLE_MICROPIPENV without micropipenv: Pipfile.lock installed natively
// (hash and Python checked, pinned lines with --require-hashes --no-deps).
func TestAssembleNativePipfileLock(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := asmNewBox(t, ctx, "minimal", map[string]string{
		"Pipfile":          asmTestdata(t, "pipenv-flask/Pipfile"),
		"Pipfile.lock":     asmTestdata(t, "pipenv-flask/Pipfile.lock"),
		"requirements.txt": "this-is-ignored-when-a-lock-exists\n",
		"wsgi.py":          asmFlaskApp,
	})
	out := b.mustAssemble("ENABLE_MICROPIPENV=1")
	asmInOrder(t, out,
		"---> Installing application source ...",
		"---> Installing dependencies via micropipenv ...",
		"---> Installing 13 pinned packages from Pipfile.lock",
		"Successfully installed",
	)
	if strings.Contains(out, "packaging") {
		t.Errorf("develop section installed:\n%s", out)
	}
	got := b.sh(`cd /tmp && python -c 'import flask, requests, six, werkzeug; print(flask.__version__, requests.__version__, werkzeug.__version__)'; python -m pip check >/dev/null && echo consistent`)
	if want := "2.2.2 " + newest(t, "requests") + " 2.2.3\nconsistent\n"; got != want {
		t.Errorf("got %q\n%s", got, out)
	}
}

// poetry.lock with pyproject.toml: content-hash checked, main category
// installed natively, then the project itself by `pip install .`.
func TestAssembleNativePoetryLock(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := asmNewBox(t, ctx, "minimal", map[string]string{
		"pyproject.toml":        asmTestdata(t, "poetry-flask/pyproject.toml"),
		"poetry.lock":           asmTestdata(t, "poetry-flask/poetry.lock"),
		"poetryapp/__init__.py": "NAME = 'poetryapp'\n",
	})
	out := b.mustAssemble("ENABLE_MICROPIPENV=1")
	asmInOrder(t, out,
		"---> Installing dependencies via micropipenv ...",
		"pinned packages from poetry.lock",
		"Successfully installed",
		"---> Installing application (via pyproject.toml)...",
		"Successfully installed poetryapp-0.1.0",
	)
	got := b.sh(`cd /tmp && python -c 'import flask, requests, poetryapp; print(flask.__version__, poetryapp.NAME)'`)
	if got != "2.2.2 poetryapp\n" {
		t.Errorf("got %q\n%s", got, out)
	}
}

// A lock whose hash does not match, and corrupt locks: refused with a
// one-line summary and a non-zero exit before pip runs.
func TestAssembleBadLocks(t *testing.T) {
	t.Parallel()
	pipfile := asmTestdata(t, "pipenv-flask/Pipfile")
	lock := asmTestdata(t, "pipenv-flask/Pipfile.lock")
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"stale-pipfile-lock", map[string]string{"Pipfile": pipfile + "\n[packages.extra]\nversion = \"*\"\n", "Pipfile.lock": lock},
			"ERROR: Installing dependencies (micropipenv) failed: Pipfile.lock (39554731a499) out of date"},
		{"corrupt-pipfile-lock", map[string]string{"Pipfile": pipfile, "Pipfile.lock": lock[:200]},
			"ERROR: Installing dependencies (micropipenv) failed: Pipfile.lock is corrupt"},
		{"corrupt-poetry-lock", map[string]string{"pyproject.toml": asmTestdata(t, "poetry-flask/pyproject.toml"), "poetry.lock": "[[package]\n"},
			"ERROR: Installing dependencies (micropipenv) failed: poetry.lock is corrupt"},
		{"stale-poetry-lock", map[string]string{"pyproject.toml": strings.Replace(asmTestdata(t, "poetry-flask/pyproject.toml"), `flask = "2.2.2"`, `flask = "*"`, 1), "poetry.lock": asmTestdata(t, "poetry-flask/poetry.lock")},
			"content-hash does not match pyproject.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			b := asmNewBox(t, ctx, "minimal", tc.files)
			out, code := b.assemble("ENABLE_MICROPIPENV=1")
			if code != 1 || !strings.Contains(out, tc.want) || strings.Contains(out, "Successfully installed") {
				t.Errorf("exit %d, output:\n%s\nwant %q", code, out, tc.want)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "ERROR: ") {
				t.Errorf("last line %q is not the summary", last)
			}
		})
	}
}

// ENABLE_MICROPIPENV with neither lock: requirements.txt, as micropipenv
// falls back to it; with no input at all, a one-line error.
func TestAssembleNativeRequirementsFallback(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := asmNewBox(t, ctx, "minimal", map[string]string{"requirements.txt": "six==1.16.0\n"})
	out := b.mustAssemble("ENABLE_MICROPIPENV=1")
	asmInOrder(t, out, "---> Installing dependencies via micropipenv ...", "Successfully installed six-1.16.0")
	if got := b.sh(`cd /tmp && python -c 'import six; print(six.__version__)'`); got != "1.16.0\n" {
		t.Errorf("import six: %q", got)
	}

	empty := asmNewBox(t, ctx, "minimal", map[string]string{"app.py": ""})
	out, code := empty.assemble("ENABLE_MICROPIPENV=1")
	if code != 1 || !strings.HasSuffix(out, "ERROR: Installing dependencies (micropipenv) failed: ENABLE_MICROPIPENV is set but there is no Pipfile.lock, poetry.lock or requirements.txt\n") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
