package builder

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// Native locks: uv.lock and pylock.toml (PEP 751), installed without uv.

// Names of the native lock files assemble looks for, in this order.
const (
	UvLockFile = "uv.lock"
	PylockFile = "pylock.toml"
)

// Variables of the native lock install (documented in NOTES-uvlock.md).
const (
	EnvLockFile   = "PYS2I_LOCK_FILE"   // which lock: uv.lock, pylock.toml or pylock.NAME.toml
	EnvLockExtras = "PYS2I_LOCK_EXTRAS" // the root project's extras, comma or space separated
	EnvLockGroups = "PYS2I_LOCK_GROUPS" // dependency groups, comma or space separated (dev only when named)
)

// pylockNameRE is PEP 751's file name: pylock.toml or pylock.NAME.toml
// (NAME without dots).
var pylockNameRE = regexp.MustCompile(`^pylock(\.[^./]+)?\.toml$`)

// ValidLockName reports whether name is a native lock's file name.
func ValidLockName(name string) bool {
	return name == UvLockFile || pylockNameRE.MatchString(name)
}

// FindNativeLock is the native lock of the application directory app:
// explicit (PYS2I_LOCK_FILE) when set, else uv.lock, else pylock.toml. A
// named pylock.NAME.toml is only used when asked for, as PEP 751 says.
// "" when there is none.
func FindNativeLock(app fs.FS, explicit string) string {
	if explicit != "" {
		return explicit
	}
	for _, n := range []string{UvLockFile, PylockFile} {
		if st, err := fs.Stat(app, n); err == nil && !st.IsDir() {
			return n
		}
	}
	return ""
}

// InstallNativeLock installs the lock named name in dir into the venv
// (activated in x): everything is read and checked first (the lock, its
// freshness, markers, hashes for this interpreter), then pip runs with
// --no-deps (--require-hashes for what is pinned by hash). project reports
// that the lock installed the project itself (uv.lock always does, or the
// root is virtual), so assemble does not install it again.
func InstallNativeLock(ctx context.Context, x *Exec, dir, name string) (project bool, err error) {
	if !ValidLockName(name) {
		return false, &LockError{fmt.Sprintf("%s=%s is not a lock pys2i reads (uv.lock, pylock.toml or pylock.NAME.toml)", EnvLockFile, name)}
	}
	lock, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, &LockError{fmt.Sprintf("%s=%s, but the source has no %s", EnvLockFile, name, name)}
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", name, err)
	}
	env, err := x.ProbePython(ctx)
	if err != nil {
		return false, err
	}
	if len(env.Tags) == 0 {
		return false, fmt.Errorf("the venv's python could not list the wheel tags it accepts (pip's packaging.tags is missing)")
	}
	choice := LockChoice{Extras: splitList(Getenv(x.Env, EnvLockExtras)), Groups: splitList(Getenv(x.Env, EnvLockGroups))}
	var locked *Locked
	if name == UvLockFile {
		var readErr error
		readPyproject := func(rel string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, rel, "pyproject.toml"))
			if err != nil && !errors.Is(err, fs.ErrNotExist) && readErr == nil {
				readErr = fmt.Errorf("reading %s: %w", filepath.Join(rel, "pyproject.toml"), err)
			}
			return b
		}
		locked, err = ConvertUvLock(lock, readPyproject, dir, env, choice)
		if readErr != nil {
			return false, readErr
		}
		if err != nil {
			return false, err
		}
		project = true
	} else {
		res, err := ConvertPylock(name, lock, dir, env, choice)
		if err != nil {
			return false, err
		}
		locked, project = res.Locked, res.Project
	}
	if Getenv(x.Env, "PIP_INDEX_URL") != "" {
		locked.Indexes, locked.Trusted = nil, nil // the build's index: pip's own configuration governs
	}
	fmt.Fprintf(x.Stdout, "---> Installing %d pinned packages from %s (native, without uv)\n", len(locked.Reqs), name)
	return project, installPins(ctx, x, locked)
}
