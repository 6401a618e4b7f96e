package assemble

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeWorld is a temp dir with /tmp/src, $HOME, a venv whose pip and python
// are shell scripts logging their arguments, failing when the arguments
// contain $FAKE_FAIL.
type fakeWorld struct {
	root, src, home, appRoot, log string
}

const fakeTool = `#!/bin/sh
echo "$(basename "$0") $*" >> "$FAKE_LOG"
case "$*" in *"$FAKE_FAIL"*) [ -n "$FAKE_FAIL" ] && { echo "fake failure" >&2; exit ${FAKE_CODE:-1}; } ;; esac
case "$*" in "-m venv "*) mkdir -p "$3/bin"; for t in pip pipenv; do cp "$0" "$3/bin/$t"; done ;; esac
exit 0
`

func newFakeWorld(t *testing.T, files map[string]string) *fakeWorld {
	t.Helper()
	root := t.TempDir()
	fw := &fakeWorld{root: root, src: filepath.Join(root, "src"), home: filepath.Join(root, "app", "src"), appRoot: filepath.Join(root, "app"), log: filepath.Join(root, "log")}
	for _, d := range []string{fw.src, fw.home, filepath.Join(fw.appRoot, "bin"), filepath.Join(fw.appRoot, "lib", "python3.11", "site-packages")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tool := range []string{"pip", "python", "python3"} {
		if err := os.WriteFile(filepath.Join(fw.appRoot, "bin", tool), []byte(fakeTool), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(fw.appRoot, "pyvenv.cfg"), []byte("home = "+filepath.Join(fw.appRoot, "bin")+"\nversion = 3.11.2\n"), 0o644)
	for name, body := range files {
		p := filepath.Join(fw.src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return fw
}

func (fw *fakeWorld) run(t *testing.T, env ...string) (code int, stdout, stderr, log string) {
	t.Helper()
	base := []string{"PATH=/usr/bin:/bin", "HOME=" + fw.home, "APP_ROOT=" + fw.appRoot, "FAKE_LOG=" + fw.log}
	all := append(base, env...)
	get := func(k string) string {
		for i := len(all) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(all[i], k+"="); ok {
				return v
			}
		}
		return ""
	}
	c := ConfigFromEnv(get)
	c.Source, c.PipIni = fw.src, filepath.Join(fw.home, "pip.ini")
	c.StateDir, c.Artifacts = filepath.Join(fw.root, "state"), filepath.Join(fw.root, "artifacts")
	var out, errb bytes.Buffer
	a := &Assembler{Cfg: c, Env: all, Dir: fw.home, Stdout: &out, Stderr: &errb, Owner: os.Geteuid()}
	code, err := a.Run(context.Background())
	if err != nil {
		errb.WriteString("ERROR: " + err.Error() + "\n")
	}
	l, _ := os.ReadFile(fw.log)
	return code, out.String(), errb.String(), string(l)
}

func TestRunSteps(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   map[string]string
		env     []string
		code    int
		stdout  string
		log     string
		errHas  string
		srcLeft bool
	}{
		{
			name:  "requirements, setup.cfg and pyproject",
			files: map[string]string{"requirements.txt": "x", "setup.cfg": "", "pyproject.toml": "", ".env": "dot"},
			env:   []string{"PIP_INDEX_URL=http://u:p@idx/simple"},
			stdout: "---> Installing application source ...\n---> Creating pip.ini config file\n" + pipIniNote + "\n---> Installing dependencies ...\n" +
				"---> Installing application (via setup.{py,cfg})...\n---> Installing application (via pyproject.toml)...\n",
			log: "pip install -r requirements.txt\npip install .\npip install .\n",
		},
		{
			name:   "conflict",
			files:  map[string]string{"requirements.txt": "x"},
			env:    []string{"ENABLE_PIPENV=1", "ENABLE_MICROPIPENV=1"},
			code:   3,
			stdout: "ERROR: Pipenv and micropipenv cannot be enabled at the same time!\n", srcLeft: true,
		},
		{
			name:  "upgrade retried with --isolated",
			files: map[string]string{"app.py": ""},
			env:   []string{"UPGRADE_PIP_TO_LATEST=1", "FAKE_FAIL=install -U pip"},
			stdout: "---> Installing application source ...\n---> Upgrading pip, setuptools and wheel to latest version ...\n" +
				"WARNING: Installation of the latest pip, setuptools and wheel failed, trying again from official PyPI with pip --isolated install\n",
			log: "pip install -U pip setuptools wheel\npip install --isolated -U pip setuptools wheel\n",
		},
		{
			name:   "dependency failure exits with pip's status",
			files:  map[string]string{"requirements.txt": "x"},
			env:    []string{"FAKE_FAIL=-r requirements.txt", "FAKE_CODE=2"},
			code:   2,
			stdout: "---> Installing application source ...\n---> Installing dependencies ...\n",
			log:    "pip install -r requirements.txt\n",
			errHas: "ERROR: Installing dependencies (requirements.txt) failed: pip install -r requirements.txt exited with status 2",
		},
		{
			name:  "pipenv tool with pin, Pipfile",
			files: map[string]string{"Pipfile": "", "requirements.txt": ""},
			env:   []string{"ENABLE_PIPENV=1", "PIN_PIPENV_VERSION=2022.12.19", "FAKE_FAIL=-U pipenv==2022.12.19"},
			stdout: "---> Installing application source ...\n---> Installing pipenv packaging tool ...\n" +
				"WARNING: Installation of pipenv failed, trying again from official PyPI with pip --isolated install\n" +
				"---> Installing dependencies via pipenv ...\n",
			code:   1,
			log:    "python3 -m venv HOME/.local/venvs/pipenv\npip install -U pipenv==2022.12.19\npip install --isolated -U pipenv==2022.12.19\n",
			errHas: "pip install --isolated -U pipenv==2022.12.19 exited with status 1",
		},
		{
			name:   "empty source",
			files:  nil,
			code:   1,
			stdout: "---> Installing application source ...\n",
			errHas: "mv: cannot stat",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fw := newFakeWorld(t, tc.files)
			code, stdout, stderr, log := fw.run(t, tc.env...)
			log = strings.ReplaceAll(log, fw.home, "HOME")
			if tc.name == "pipenv tool with pin, Pipfile" {
				// the retry fails too (same args): the build fails there
				stdout = strings.TrimSuffix(stdout, "---> Installing dependencies via pipenv ...\n")
				tc.stdout = strings.TrimSuffix(tc.stdout, "---> Installing dependencies via pipenv ...\n")
			}
			if code != tc.code || stdout != tc.stdout || (tc.log != "" && log != tc.log) || !strings.Contains(stderr, tc.errHas) {
				t.Errorf("code %d (want %d)\nstdout:\n%s\nwant:\n%s\nlog:\n%s\nwant:\n%s\nstderr:\n%s", code, tc.code, stdout, tc.stdout, log, tc.log, stderr)
			}
			ents, _ := os.ReadDir(fw.src)
			if (len(ents) > 0) != tc.srcLeft {
				t.Errorf("source left in place: %d entries", len(ents))
			}
			for name := range tc.files {
				if _, err := os.Stat(filepath.Join(fw.home, name)); (err == nil) == tc.srcLeft {
					t.Errorf("%s in HOME: %v", name, err)
				}
			}
		})
	}
}

// pip.ini is appended as upstream does, but a URL's credentials are left
// out of it (it stays in the image); the log says so without the secret.
func TestPipIniAppended(t *testing.T) {
	for _, tc := range []struct {
		name, url, file, note string
	}{
		{"no credentials: as upstream", "http://idx/simple", "http://idx/simple", ""},
		{"user and password", "http://user:SECRETPW@idx:8080/simple?x=1#f", "http://idx:8080/simple?x=1#f", pipIniNote},
		{"token", "https://TOKEN@idx/simple", "https://idx/simple", pipIniNote},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fw := newFakeWorld(t, map[string]string{"a": ""})
			os.WriteFile(filepath.Join(fw.home, "pip.ini"), []byte("# before\n"), 0o644)
			_, stdout, stderr, _ := fw.run(t, "PIP_INDEX_URL="+tc.url)
			b, _ := os.ReadFile(filepath.Join(fw.home, "pip.ini"))
			if want := "# before\n[global]\nindex-url = " + tc.file + "\n"; string(b) != want {
				t.Errorf("pip.ini %q, want %q", b, want)
			}
			if strings.Contains(stdout, pipIniNote) != (tc.note != "") {
				t.Errorf("stdout %q: want the note %q: %v", stdout, pipIniNote, tc.note != "")
			}
			if strings.Contains(stdout+stderr, "SECRETPW") || strings.Contains(stdout+stderr, "TOKEN") {
				t.Errorf("the secret was printed: %s%s", stdout, stderr)
			}
		})
	}
}

func TestMoveSourceOntoNonEmptyDir(t *testing.T) {
	fw := newFakeWorld(t, map[string]string{"d/x": "1", "f": "2"})
	os.MkdirAll(filepath.Join(fw.home, "d", "existing"), 0o755)
	var stderr bytes.Buffer
	err := MoveSource(fw.src, fw.home, &stderr)
	if err == nil || !strings.Contains(stderr.String(), "Directory not empty") {
		t.Errorf("err %v, stderr %q", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(fw.home, "f")); err != nil {
		t.Errorf("other entries not moved: %v", err)
	}
}
