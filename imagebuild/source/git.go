package source

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pys2i/pys2i/internal/exitcode"
	"github.com/pys2i/pys2i/internal/redact"
)

// checkout clones opt.Source into a temporary directory, checks out opt.Ref
// (the default branch if empty) and copies the result into dst. A clone, not
// a worktree, so the user's repository is only read.
func checkout(ctx context.Context, opt Options, ctxDir, dst string, info Info) (Info, error) {
	tmp, err := os.MkdirTemp("", "pys2i-git-")
	if err != nil {
		return info, fmt.Errorf("git checkout: %w", err)
	}
	defer os.RemoveAll(tmp)
	repo := filepath.Join(tmp, "repo")
	src := opt.Source
	if Classify(src) == Local {
		src = info.Location // absolute
		// s2i's EmptyGitRepositoryError: nothing to check out.
		if refs, err := git(ctx, src, "for-each-ref", "--count=1"); err == nil && refs == "" {
			return info, exitcode.New(exitcode.EmptyGitRepository, "the git repository %q has no tracking information or commits", opt.Source)
		}
	}
	clone := []string{"clone", "--quiet"}
	if opt.Ref != "" {
		clone = append(clone, "--no-checkout")
	}
	if _, err := git(ctx, "", append(clone, "--", src, repo)...); err != nil {
		return info, err
	}
	if opt.Ref != "" {
		// "git checkout BRANCH" makes a local branch from origin/BRANCH, so the
		// ref label is the branch name, as s2i's.
		if _, err := git(ctx, repo, "checkout", "--quiet", opt.Ref); err != nil {
			return info, err
		}
	}
	if _, err := os.Lstat(filepath.Join(repo, ".gitmodules")); err == nil && !opt.IgnoreSubmodules {
		if _, err := git(ctx, repo, "submodule", "update", "--init", "--recursive"); err != nil {
			return info, err
		}
	}
	if info.Commit, err = git(ctx, repo, "rev-parse", "--verify", "HEAD"); err != nil {
		return info, err
	}
	if info.Ref, err = git(ctx, repo, "rev-parse", "--abbrev-ref", "HEAD"); err != nil {
		return info, err
	}
	meta, err := git(ctx, repo, "log", "-1", "--format=%an <%ae>%x00%ad%x00%s")
	if err != nil {
		return info, err
	}
	if f := strings.SplitN(meta, "\x00", 3); len(f) == 3 {
		info.Author, info.Date, info.Message = f[0], f[1], truncate(f[2], 80)
	}
	info.Skipped, err = copyTree(ctx, repo, ctxDir, dst, opt)
	return info, err
}

// truncate shortens s to n runes the way git's %<(n,trunc) does: ".." at the end.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-2]) + ".."
}

// isGitRepo reports whether dir is the top of a git working tree.
func isGitRepo(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, ".git"))
	return err == nil
}

// git runs git in dir and returns its trimmed stdout; errors carry its stderr
// with any credentials masked.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("git %s: %s", redact.URL(strings.Join(args, " ")), redact.URL(msg))
	}
	return strings.TrimSpace(stdout.String()), nil
}
