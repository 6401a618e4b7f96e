package integration

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/test/harness"
)

// The native uv.lock and pylock.toml installs (builder.InstallNativeLock),
// against locks the world's real uv writes at test time from
// test/apps/uvlock-workspace: a workspace (root app, editable, and a
// member), a git source (a repository made here), markers (win32 only,
// Python < 3.12), an extra, two groups, and gunicorn from its sdist. What
// assemble installs is compared with what `uv sync --locked` installs, from
// the same lock and index, into a second venv of the same interpreter.

// uvEnv is the environment of the world's uv on the host and in the
// sandbox: no configuration files, no downloads of Pythons, its own cache.
func uvEnv(cache string) []string {
	return []string{"UV_NO_CONFIG=1", "UV_PYTHON_DOWNLOADS=never", "UV_CACHE_DIR=" + cache, "UV_NO_PROGRESS=1"}
}

// uvHost runs the world's uv in dir on the host, against the world's index only.
func uvHost(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(w.ToolsBin(), "uv"), append(args, "--default-index", w.Index.URL)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, uvEnv(t.TempDir())...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("uv %v (the world's tools venv, %s): %v\n%s", args, w.ToolsBin(), err, out)
	}
	return string(out)
}

// uvGitdep makes a git repository of test/apps/uvlock-gitdep and returns
// its directory.
func uvGitdep(t *testing.T) string {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "gitdep")
	if out, err := exec.Command("cp", "-a", filepath.Join("..", "apps", "uvlock-gitdep"), repo).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C",
		"GIT_AUTHOR_NAME=pys2i test", "GIT_AUTHOR_EMAIL=test@pys2i.invalid", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z",
		"GIT_COMMITTER_NAME=pys2i test", "GIT_COMMITTER_EMAIL=test@pys2i.invalid", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z"}
	for _, args := range [][]string{{"init", "--quiet", "--initial-branch=main"}, {"add", "-A"}, {"commit", "--quiet", "-m", "gitdep"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = repo, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return repo
}

// uvWorkspace copies test/apps/uvlock-workspace with its git source at
// repo, edits its pyproject.toml with edit, and locks it with the world's
// uv; it returns the project's files (uv.lock included) by path.
func uvWorkspace(t *testing.T, repo string, edit func(string) string, exportPylock bool) map[string]string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	if out, err := exec.Command("cp", "-a", filepath.Join("..", "apps", "uvlock-workspace"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
	pp := filepath.Join(dir, "pyproject.toml")
	b, err := os.ReadFile(pp)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "GITDEP_URL", "file://"+repo)
	if edit != nil {
		text = edit(text)
	}
	if err := os.WriteFile(pp, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	uvHost(t, dir, "lock", "--python", "/usr/bin/python3")
	if exportPylock {
		uvHost(t, dir, "export", "--quiet", "--locked", "--no-dev", "--format", "pylock.toml", "--output-file", "pylock.toml", "--python", "/usr/bin/python3")
	}
	files := map[string]string{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// uvBox is a full builder box (git is in it) with the app's files, the git
// repository mounted where the lock names it, and the world's uv.
func uvBox(t *testing.T, ctx context.Context, files map[string]string, repo string) *asmBox {
	t.Helper()
	b := asmNewBox(t, ctx, "full", files)
	// The repository where the lock names it, owned by the build's user
	// (git refuses another user's repository).
	s := b.spec
	s.UID, s.GID = 0, 0
	s.Mounts = append(append([]sandbox.Mount(nil), s.Mounts...), sandbox.Mount{Source: repo, Target: "/tmp/gitdep-ro", ReadOnly: true})
	s.Args = []string{"/bin/sh", "-ec", `mkdir -p "$(dirname "$1")" && cp -a /tmp/gitdep-ro "$1" && chown -R 1001:0 "$1"`, "sh", repo}
	if out, err := harness.Output(ctx, s); err != nil {
		t.Fatalf("copy the git repository: %v\n%s", err, out)
	}
	b.spec.Mounts = append(b.spec.Mounts, sandbox.Mount{Source: filepath.Join(w.ToolsBin(), "uv"), Target: "/tmp/uvbin/uv", ReadOnly: true})
	return b
}

// distsScript prints a venv's distributions as "name==version", sorted,
// without the installers (pip, setuptools, wheel) a uv venv does not have.
const distsScript = `import importlib.metadata as m, re
names = sorted({re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower() + "==" + d.version for d in m.distributions()})
print("\n".join(n for n in names if n.split("==")[0] not in ("pip", "setuptools", "wheel")))`

// uvSyncSet is what `uv sync --locked` with args installs from the app's
// lock into a new venv of the box's interpreter.
func (b *asmBox) uvSyncSet(args string) string {
	b.t.Helper()
	return b.sh(`export ` + strings.Join(uvEnv("/tmp/uv-cache"), " ") + `
py=$(/opt/app-root/bin/python -c 'import sys; print(sys._base_executable)')
rm -rf /tmp/uv-app /tmp/uv-venv && cp -a /opt/app-root/src /tmp/uv-app && cd /tmp/uv-app
UV_PROJECT_ENVIRONMENT=/tmp/uv-venv /tmp/uvbin/uv sync --quiet --locked ` + args + ` --default-index '` + w.Index.URL + `' --python "$py" >&2
cd /tmp && /tmp/uv-venv/bin/python -c '` + distsScript + `'`)
}

func (b *asmBox) installedSet() string {
	b.t.Helper()
	return b.sh(`cd /tmp && /opt/app-root/bin/python -c '` + distsScript + `'`)
}

func TestAssembleNativeUvLock(t *testing.T) {
	t.Parallel()
	repo := uvGitdep(t)
	files := uvWorkspace(t, repo, nil, true)
	lockOnly := map[string]string{}
	for k, v := range files {
		if k != "pylock.toml" {
			lockOnly[k] = v
		}
	}
	for _, tc := range []struct {
		name   string
		files  map[string]string
		env    []string
		uvArgs string
		want   []string // in the set
		absent []string // not in the set
	}{
		{"uv.lock", lockOnly, nil, "--no-dev",
			[]string{"app==0.1.0", "member==0.3.0", "gitdep==0.2.0", "gunicorn==23.0.0", "decorator==5.3.1", "flask==2.2.2"},
			[]string{"colorama", "pello", "requests", "pysocks"}},
		{"uv.lock extras and groups", lockOnly, []string{"PYS2I_LOCK_EXTRAS=socks", "PYS2I_LOCK_GROUPS=dev,pinned"}, "--extra socks --group dev --group pinned",
			[]string{"app==0.1.0", "pysocks==1.7.1", "pello==1.0.4", "six==1.16.0"},
			[]string{"colorama"}},
		// uv.lock wins unless PYS2I_LOCK_FILE names the other; uv sync
		// uses the uv.lock the pylock.toml was exported from.
		{"pylock.toml", files, []string{"PYS2I_LOCK_FILE=pylock.toml"}, "--no-dev",
			[]string{"app==0.1.0", "member==0.3.0", "gitdep==0.2.0", "gunicorn==23.0.0"},
			[]string{"colorama", "pello"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			b := uvBox(t, ctx, tc.files, repo)
			out := b.mustAssemble(tc.env...)
			lock := "uv.lock"
			if _, ok := tc.files["pylock.toml"]; ok {
				lock = "pylock.toml"
			}
			asmInOrder(t, out, "---> Installing dependencies from "+lock+" ...", "pinned packages from "+lock+" (native, without uv)", "Successfully installed")
			// gunicorn's lock entry has a wheel and an sdist; tool.uv
			// no-binary-package leaves pip the sdist's hash only.
			if sdist := strings.Contains(out, "Building wheel for gunicorn"); sdist != (lock == "uv.lock") {
				t.Errorf("gunicorn built from its sdist: %v, want %v", sdist, lock == "uv.lock")
			}
			if strings.Contains(out, "---> Installing application (via") {
				t.Errorf("the lock installed the project; assemble installed it again:\n%s", out)
			}
			got := b.installedSet()
			for _, w := range tc.want {
				if !strings.Contains("\n"+got, "\n"+w+"\n") {
					t.Errorf("%s not installed; installed:\n%s", w, got)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains("\n"+got, "\n"+a+"==") {
					t.Errorf("%s installed; installed:\n%s", a, got)
				}
			}
			if imp := b.sh(`cd /tmp && python -c 'import flask, app, member, gitdep; print(app.NAME, member.NAME, gitdep.NAME)'`); imp != "app member gitdep\n" {
				t.Errorf("imports: %q", imp)
			}
			// The same lock through the real uv, same index, same interpreter.
			if uv := b.uvSyncSet(tc.uvArgs); uv != got {
				t.Errorf("assemble installed:\n%s\nuv sync --locked %s installed:\n%s", got, tc.uvArgs, uv)
			}
		})
	}
}

// A lock that no longer matches pyproject.toml, an interpreter outside the
// lock's requires-python, an unknown lock version, an extra the project
// does not have: assemble stops before pip changes the venv, naming the
// file and the problem.
func TestAssembleBadUvLocks(t *testing.T) {
	t.Parallel()
	repo := uvGitdep(t)
	files := uvWorkspace(t, repo, nil, false)
	delete(files, "pylock.toml")
	with := func(name, body string) map[string]string {
		out := map[string]string{}
		for k, v := range files {
			out[k] = v
		}
		out[name] = body
		return out
	}
	// No interpreter of the world meets >=3.12 for uv to lock with: the
	// project and its lock are edited alike.
	py312 := with("pyproject.toml", strings.Replace(files["pyproject.toml"], `requires-python = ">=3.11"`, `requires-python = ">=3.12"`, 1))
	py312["uv.lock"] = strings.Replace(files["uv.lock"], `requires-python = ">=3.11"`, `requires-python = ">=3.12"`, 1)
	for _, tc := range []struct {
		name  string
		files map[string]string
		env   []string
		want  string
	}{
		{"stale", with("pyproject.toml", strings.Replace(files["pyproject.toml"], `"gunicorn==23.0.0",`, `"gunicorn==23.0.0", "numpy",`, 1)), nil,
			"ERROR: Installing dependencies (uv.lock) failed: uv.lock needs to be updated, but --locked was given: the requirements of app in pyproject.toml differ from the lock (not in the lock: numpy); run uv lock"},
		{"requires-python", py312, nil, "ERROR: Installing dependencies (uv.lock) failed: uv.lock: the project requires Python >=3.12, but the venv runs Python 3.11"},
		{"version", with("uv.lock", strings.Replace(files["uv.lock"], "version = 1\n", "version = 9\n", 1)), nil,
			"ERROR: Installing dependencies (uv.lock) failed: uv.lock has version 9; this pys2i reads version 1"},
		{"unknown extra", files, []string{"PYS2I_LOCK_EXTRAS=gui"}, `ERROR: Installing dependencies (uv.lock) failed: uv.lock: PYS2I_LOCK_EXTRAS names "gui", which the project does not provide`},
		{"no wheel for this interpreter", with("uv.lock", dropLines(files["uv.lock"], "markupsafe-3.0.4-cp311")), nil,
			"ERROR: Installing dependencies (uv.lock) failed: uv.lock: markupsafe 3.0.4: no hash for this platform: no wheel for this interpreter (python 3.11"},
		{"unreadable marker", with("uv.lock", strings.Replace(files["uv.lock"], `marker = "python_full_version < '3.12'"`, `marker = "python_full_version <> '3.12'"`, 1)), nil,
			`ERROR: Installing dependencies (uv.lock) failed: uv.lock: app's dependency on decorator: invalid marker "python_full_version <> '3.12'"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			b := asmNewBox(t, ctx, "minimal", tc.files)
			before := b.installedSet()
			out, code := b.assemble(tc.env...)
			if code != 1 || !strings.Contains(out, tc.want) || strings.Contains(out, "Successfully installed") {
				t.Errorf("exit %d, output:\n%s\nwant %q", code, out, tc.want)
			}
			if after := b.installedSet(); after != before {
				t.Errorf("the venv changed: before\n%s\nafter\n%s", before, after)
			}
		})
	}
}

// dropLines is text without its lines that contain sub.
func dropLines(text, sub string) string {
	var out []string
	for _, l := range strings.SplitAfter(text, "\n") {
		if !strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// uvSmallProject writes a virtual project (no build system) with pyproject
// and locks it with the world's uv; it returns its files.
func uvSmallProject(t *testing.T, pyproject string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pyproject.toml"), []byte(pyproject), 0o644); err != nil {
		t.Fatal(err)
	}
	uvHost(t, dir, "lock", "--python", "/usr/bin/python3")
	lock, err := os.ReadFile(filepath.Join(dir, "uv.lock"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"pyproject.toml": pyproject, "uv.lock": string(lock), "app.py": "import six\n"}
}

// Rebuild reuse with a uv.lock: the same lock (and variables) reuses the
// venv; a new lock, or another PYS2I_LOCK_GROUPS, installs again.
func TestAssembleUvLockReuse(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	const pp = "[project]\nname = \"reuse\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"six==1.16.0\"]\n\n[dependency-groups]\ndev = [\"pello\"]\n"
	files := uvSmallProject(t, pp)
	first := asmNewBox(t, ctx, "minimal", files)
	asmInOrder(t, first.mustAssemble(), "---> Installing dependencies from uv.lock ...", "Successfully installed six-1.16.0")
	tarPath := first.asmSaveArtifacts()
	newer := uvSmallProject(t, strings.Replace(pp, "six==1.16.0", "six==1.17.0", 1))
	for _, tc := range []struct {
		name   string
		files  map[string]string
		env    []string
		reused bool
		want   string
	}{
		{"unchanged", files, nil, true, "six 1.16.0"},
		{"new lock", newer, nil, false, "six 1.17.0"},
		{"groups", files, []string{"PYS2I_LOCK_GROUPS=dev"}, false, "six 1.16.0 pello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			b := asmNewBox(t, ctx, "minimal", tc.files)
			b.asmPutArtifacts(tarPath)
			out := b.mustAssemble(tc.env...)
			if reused := strings.Contains(out, "---> Reusing dependencies from the previous build"); reused != tc.reused {
				t.Errorf("reused %v, want %v:\n%s", reused, tc.reused, out)
			}
			got := b.sh(`cd /tmp && python -c 'import six; print("six", six.__version__)'; python -m pip show -q pello >/dev/null 2>&1 && echo pello; true`)
			if strings.Join(strings.Fields(got), " ") != tc.want {
				t.Errorf("installed %q, want %q\n%s", got, tc.want, out)
			}
		})
	}
}

// pipLock writes a pylock.toml with `pip lock` of the index's pip (pip 25.1
// and later lock) in a venv of the host's python3, against the world's index.
func pipLock(t *testing.T, reqs ...string) string {
	t.Helper()
	dir := t.TempDir()
	venv := filepath.Join(dir, "venv")
	run := func(args ...string) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "PIP_NO_CACHE_DIR=1", "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_CONFIG_FILE=/dev/null"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run("/usr/bin/python3", "-m", "venv", venv)
	run(filepath.Join(venv, "bin", "pip"), "install", "--quiet", "--index-url", w.Index.URL, "--upgrade", "pip")
	run(append([]string{filepath.Join(venv, "bin", "pip"), "lock", "--quiet", "--index-url", w.Index.URL, "--output", "pylock.toml"}, reqs...)...)
	b, err := os.ReadFile(filepath.Join(dir, "pylock.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A pylock.toml written by pip: what assemble installs equals what the real
// uv installs from the same file (`uv pip install -r pylock.toml`) into a
// second venv of the same interpreter.
func TestAssembleNativePipLock(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	lock := pipLock(t, "flask==2.2.2", "werkzeug==2.2.3", "requests[socks]", "decorator; python_version < '3.12'", "colorama; sys_platform == 'win32'")
	if !strings.Contains(lock, `created-by = "pip"`) {
		t.Fatalf("not pip's lock:\n%s", lock)
	}
	b := asmNewBox(t, ctx, "minimal", map[string]string{"pylock.toml": lock, "app.py": "import flask\n"})
	b.spec.Mounts = append(b.spec.Mounts, sandbox.Mount{Source: filepath.Join(w.ToolsBin(), "uv"), Target: "/tmp/uvbin/uv", ReadOnly: true})
	out := b.mustAssemble()
	asmInOrder(t, out, "---> Installing dependencies from pylock.toml ...", "pinned packages from pylock.toml (native, without uv)", "Successfully installed")
	got := b.installedSet()
	for _, want := range []string{"flask==2.2.2", "pysocks==1.7.1", "decorator==5.3.1"} {
		if !strings.Contains("\n"+got, "\n"+want+"\n") {
			t.Errorf("%s not installed:\n%s", want, got)
		}
	}
	uv := b.sh(`export ` + strings.Join(uvEnv("/tmp/uv-cache"), " ") + `
py=$(/opt/app-root/bin/python -c 'import sys; print(sys._base_executable)')
/tmp/uvbin/uv venv --quiet /tmp/uv-venv --python "$py" >&2
/tmp/uvbin/uv pip install --quiet --python /tmp/uv-venv/bin/python -r /opt/app-root/src/pylock.toml --default-index '` + w.Index.URL + `' >&2
cd /tmp && /tmp/uv-venv/bin/python -c '` + distsScript + `'`)
	if uv != got {
		t.Errorf("assemble installed:\n%s\nuv pip install -r pylock.toml installed:\n%s", got, uv)
	}
}

// The builder's unit-test fixture (builder/testdata/uvlock/app, locked from
// test/apps/uvlock-workspace) still is what the world's uv writes for that
// project: the same packages at the same versions, the same package
// options (extras, groups), the same files' hashes.
func TestUvLockFixtureCurrent(t *testing.T) {
	t.Parallel()
	fresh := uvWorkspace(t, uvGitdep(t), nil, false)["uv.lock"]
	fixture, err := os.ReadFile(filepath.Join("..", "..", "builder", "testdata", "uvlock", "app", "uv.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := uvLockSummary(t, fresh), uvLockSummary(t, string(fixture)); got != want {
		t.Errorf("uv.lock of test/apps/uvlock-workspace today:\n%s\nbuilder/testdata/uvlock/app/uv.lock:\n%s\n(regenerate the fixture: see builder/testdata/README.md)", got, want)
	}
}

// uvLockSummary is a uv.lock's packages (name, version, dependencies,
// extras, groups, file hashes), without what depends on the day (the
// index's port, the git repository's path and commit).
func uvLockSummary(t *testing.T, lock string) string {
	t.Helper()
	var l struct {
		Version  int `toml:"version"`
		Packages []struct {
			Name         string                      `toml:"name"`
			Version      string                      `toml:"version"`
			Source       map[string]any              `toml:"source"`
			Dependencies []map[string]any            `toml:"dependencies"`
			Optional     map[string][]map[string]any `toml:"optional-dependencies"`
			Dev          map[string][]map[string]any `toml:"dev-dependencies"`
			Sdist        map[string]any              `toml:"sdist"`
			Wheels       []map[string]any            `toml:"wheels"`
		} `toml:"package"`
	}
	if _, err := toml.Decode(lock, &l); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "version %d\n", l.Version)
	for _, p := range l.Packages {
		kinds := make([]string, 0, len(p.Source))
		for k := range p.Source {
			kinds = append(kinds, k)
		}
		fmt.Fprintf(&b, "%s %s %v deps %v extras %v groups %v", p.Name, p.Version, kinds, p.Dependencies, p.Optional, p.Dev)
		if p.Sdist != nil {
			fmt.Fprintf(&b, " sdist %v", p.Sdist["hash"])
		}
		for _, w := range p.Wheels {
			fmt.Fprintf(&b, " wheel %v", w["hash"])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Pipfile.lock markers are evaluated in Go now (builder/marker), the same
// evaluator as the uv.lock path: test/apps/pipfile-markers, locked by the
// world's pipenv, names colorama for win32 only; assemble leaves it out
// before pip runs and installs the rest pinned and hashed.
func TestAssembleNativePipfileLockMarkers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "src")
	if out, err := exec.Command("cp", "-a", filepath.Join("..", "apps", "pipfile-markers"), src).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
	imagesPipenvLock(t, src)
	files := map[string]string{}
	for _, n := range []string{"Pipfile", "Pipfile.lock", "wsgi.py"} {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		files[n] = string(b)
	}
	if !strings.Contains(files["Pipfile.lock"], `"colorama": {`) || !strings.Contains(files["Pipfile.lock"], "sys_platform == 'win32'") {
		t.Fatalf("the lock does not name colorama for win32:\n%s", files["Pipfile.lock"])
	}
	b := asmNewBox(t, ctx, "minimal", files)
	out := b.mustAssemble("ENABLE_MICROPIPENV=1")
	asmInOrder(t, out, "pinned packages from Pipfile.lock", "Successfully installed")
	if strings.Contains(out, "colorama") || strings.Contains(out, "Ignoring") {
		t.Errorf("colorama reached pip:\n%s", out)
	}
	got := b.installedSet()
	if strings.Contains(got, "colorama") || !strings.Contains(got, "flask==") || !strings.Contains(got, "gunicorn==") {
		t.Errorf("installed:\n%s", got)
	}
}
