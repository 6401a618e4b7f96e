package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// scmGitRepo makes a git repository of test/apps/scm-git in a temporary
// directory, committed and tagged v1.2.3, and returns its file:// URL.
func scmGitRepo(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "apps", "scm-git"))
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(t.TempDir(), "scm-git")
	if out, err := exec.Command("cp", "-a", src, repo).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v %s", src, err, out)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C",
		"GIT_AUTHOR_NAME=pys2i test", "GIT_AUTHOR_EMAIL=test@pys2i.invalid", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z",
		"GIT_COMMITTER_NAME=pys2i test", "GIT_COMMITTER_EMAIL=test@pys2i.invalid", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z"}
	for _, args := range [][]string{
		{"init", "--quiet", "--initial-branch=main"},
		{"add", "-A"},
		{"commit", "--quiet", "-m", "scm-git"},
		{"tag", "-a", "v1.2.3", "-m", "v1.2.3"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = repo, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return "file://" + repo
}

// A setuptools-scm app built by pys2i build from a git source: its version
// is the tag (v1.2.3), read by setuptools-scm when assemble's `pip install .`
// builds it. As in s2i, the source is cloned and .git left out by the
// default --exclude, so setuptools-scm sees no repository: a user either
// keeps .git (--exclude "", and the builder needs git, as upstream's full
// image has) or gives the version with setuptools-scm's own variable
// (SETUPTOOLS_SCM_PRETEND_VERSION_FOR_<DIST>), which needs no git.
func TestBuildSetuptoolsScmGit(t *testing.T) {
	buildIsolate(t)
	repo := scmGitRepo(t)
	for _, tc := range []struct {
		name, variant string
		args          []string
		check         string // a shell script that must succeed in the image
	}{
		{"keep-git", "full", []string{"--exclude", ""},
			// .git came along (and ships in the image: that is what --exclude '' means).
			`test -d .git && test "$(git describe --tags)" = v1.2.3`},
		{"pretend-version", "minimal", []string{"-e", "SETUPTOOLS_SCM_PRETEND_VERSION_FOR_SCMAPP=1.2.3"},
			`test ! -e .git`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
			defer cancel()
			builder := imagesVariants[tc.variant]
			imagesRequire(t, ctx, builder)
			tag := "localhost/pys2i-test/pys2i-build-scm-" + tc.name + ":latest"
			buildRmi(t, tag)
			before := buildSnapshot(t)
			args := append([]string{"build", repo, builder, tag, "-e", "PIP_INDEX_URL=" + w.Index.URL}, tc.args...)
			start := time.Now()
			r := buildRun(t, args...)
			t.Logf("pys2i build %s: %v", tc.name, time.Since(start).Round(time.Millisecond))
			if r.code != 0 {
				t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			buildNoLeftovers(t, before, r)
			script := `test "$(python -c 'from importlib.metadata import version; print(version("scmapp"))')" = 1.2.3` + "\n" + tc.check
			if out, err := world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", tag, "sh", "-ec", script); err != nil {
				t.Fatalf("check %q: %v\n%s", script, err, out)
			}
			buildServe(t, tag, "scm-git 1.2.3")
		})
	}
}

// The default --exclude leaves .git out, as s2i's does: without a version
// from elsewhere setuptools-scm cannot build the app, and the build says so.
func TestBuildSetuptoolsScmGitExcluded(t *testing.T) {
	buildIsolate(t)
	repo := scmGitRepo(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	builder := imagesVariants["minimal"]
	imagesRequire(t, ctx, builder)
	tag := "localhost/pys2i-test/pys2i-build-scm-excluded:latest"
	buildRmi(t, tag)
	r := buildRun(t, "build", repo, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL)
	if r.code == 0 {
		t.Fatalf("pys2i build succeeded without .git or a version\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if all := r.stdout + r.stderr; !strings.Contains(all, "setuptools-scm") && !strings.Contains(all, "setuptools_scm") {
		t.Fatalf("build failed (exit %d) without naming setuptools-scm\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
