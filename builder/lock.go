package builder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Requirement is one pinned line of a converted lock file.
type Requirement struct {
	Name     string
	Line     string // what pip gets: "name[extras]==1.0 --hash=sha256:..." or a VCS/path spec (markers evaluated already)
	Editable bool
	Hashed   bool // the line carries hashes (installable with --require-hashes)
}

// Locked is a lock file turned into pip input.
type Locked struct {
	Kind    string   // "Pipfile.lock" or "poetry.lock"
	Indexes []string // index URLs (first is the main one), env vars expanded
	Trusted []string // hosts of sources with verify_ssl = false
	Reqs    []Requirement
}

// LockError is a lock file that cannot be used (corrupt, stale, wrong Python).
type LockError struct{ Msg string }

func (e *LockError) Error() string { return e.Msg }

// short is a hash cut to 12 characters for a message.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// PipArgs are the pip install invocations for the lock: hashed requirements
// with --require-hashes --no-deps, then VCS/path ones with --no-deps.
func (l *Locked) PipArgs() (hashed, unhashed []string) {
	var idx []string
	if len(l.Indexes) > 0 {
		idx = append(idx, "--index-url", l.Indexes[0])
		for _, u := range l.Indexes[1:] {
			idx = append(idx, "--extra-index-url", u)
		}
	}
	for _, h := range l.Trusted {
		idx = append(idx, "--trusted-host", h)
	}
	return append([]string{"install", "--require-hashes", "--no-deps"}, idx...),
		append([]string{"install", "--no-deps"}, idx...)
}

// lockInputs are micropipenv's inputs in order of preference.
var lockInputs = []string{"Pipfile.lock", "poetry.lock", "requirements.txt"}

// maxLockDepth is how many parent directories micropipenv searches.
const maxLockDepth = 42

// FindLockInput picks micropipenv's input: the first kind (Pipfile.lock,
// poetry.lock, requirements.txt) found in dir or one of its parents, up to
// 42 levels, as micropipenv's _traverse_up_find_file does.
func FindLockInput(dir string) (string, bool) {
	for _, name := range lockInputs {
		d := dir
		for i := 0; i <= maxLockDepth; i++ {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, true
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return "", false
}

// InstallLocked is ENABLE_MICROPIPENV without micropipenv: the input is
// picked as micropipenv does (Pipfile.lock, then poetry.lock with
// pyproject.toml, then requirements.txt), checked as with --deploy and
// installed with pip --no-deps (--require-hashes for hashed pins). A
// PIP_INDEX_URL in the environment takes precedence over the lock's sources
// (the image's mirror wins, as for every other pip call).
func InstallLocked(ctx context.Context, x *Exec, dir string, venv Venv) error {
	dev := Getenv(x.Env, "MICROPIPENV_DEV") != ""
	input, found := FindLockInput(dir)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(input), name))
		if err != nil {
			return nil
		}
		return b
	}
	var locked *Locked
	var err error
	switch {
	case !found:
		return &LockError{"ENABLE_MICROPIPENV is set but there is no Pipfile.lock, poetry.lock or requirements.txt"}
	case filepath.Base(input) == "Pipfile.lock":
		env, perr := x.ProbePython(ctx)
		if perr != nil {
			return perr
		}
		locked, err = ConvertPipfileLock(read("Pipfile.lock"), read("Pipfile"), env.MarkerEnv(nil, nil), dev,
			func(s string) string { return os.Expand(s, func(k string) string { return Getenv(x.Env, k) }) })
	case filepath.Base(input) == "poetry.lock":
		locked, err = ConvertPoetryLock(read("poetry.lock"), read("pyproject.toml"), dev)
	default:
		return InstallRequirements(ctx, x, input)
	}
	if err != nil {
		return err
	}
	if Getenv(x.Env, "PIP_INDEX_URL") != "" {
		locked.Indexes, locked.Trusted = nil, nil // pip's own configuration governs
	}
	fmt.Fprintf(x.Stdout, "---> Installing %d pinned packages from %s (native micropipenv --deploy)\n", len(locked.Reqs), locked.Kind)
	return installPins(ctx, x, locked)
}

// installPins runs pip on the hashed pins (--require-hashes), then on the
// others, each set from a temporary requirements file.
func installPins(ctx context.Context, x *Exec, locked *Locked) error {
	hashedArgs, plainArgs := locked.PipArgs()
	var hashed, plain []string
	for _, r := range locked.Reqs {
		if r.Hashed {
			hashed = append(hashed, r.Line)
		} else {
			plain = append(plain, r.Line)
		}
	}
	hashed, err := installWheels(ctx, x, hashedArgs, hashed)
	if err != nil {
		return err
	}
	for _, set := range []struct {
		args  []string
		lines []string
	}{{hashedArgs, hashed}, {plainArgs, plain}} {
		if len(set.lines) == 0 {
			continue
		}
		f, err := os.CreateTemp("", "pys2i-locked-*.txt")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		if _, err := f.WriteString(strings.Join(set.lines, "\n") + "\n"); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := x.Run(ctx, append(append([]string{"pip"}, set.args...), "-r", f.Name())...); err != nil {
			return err
		}
	}
	return nil
}
