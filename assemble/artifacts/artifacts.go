// Package artifacts is the dependency state pys2i keeps between builds
// (beyond upstream, whose python images have no save-artifacts): a
// fingerprint of every dependency input, the venv and tool venvs, and pip's
// cache. save-artifacts streams it as a tar; the next assemble finds it in
// /tmp/artifacts and either reuses the dependencies whole (same fingerprint)
// or only the cache.
//
// The state lives in StateDir (/tmp/pys2i by default), outside $APP_ROOT:
// the fingerprint of the last successful build and pip's cache. Values of
// variables are only ever stored as hashes, and hashed without the
// credentials of their URLs, so no hash in an image can confirm a guessed
// password.
package artifacts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pys2i/pys2i/internal/redact"
)

// Layout of the state and of the tar (under Root).
const (
	Root            = "pys2i-artifacts"
	FingerprintFile = "fingerprint.json"
	CompleteFile    = "COMPLETE" // last entry of the tar: the stream was whole
	VenvDir         = "venv"     // $APP_ROOT minus $HOME
	LocalDir        = "local"    // $HOME/.local: tool venvs and their links
	CacheDir        = "pip-cache"
	// PipenvCacheDir is pipenv's cache, next to pip's.
	PipenvCacheDir = "pipenv-cache"
	// schema 2: URL credentials are left out of the variables' hashes.
	schema = "pys2i-deps/2"
)

// InputFiles are the files whose content decides what gets installed.
// Besides these, every requirements*.txt, constraints*.txt and
// pylock.*.toml (PEP 751's named locks).
var InputFiles = []string{"Pipfile", "Pipfile.lock", "poetry.lock", "uv.lock", "pylock.toml", "setup.py", "setup.cfg", "pyproject.toml"}

// InputVars are the variables that change what assemble installs, besides
// every PIP_* and PIPENV_* variable (see IsInputVar).
var InputVars = []string{
	"ENABLE_PIPENV", "ENABLE_MICROPIPENV", "PIN_PIPENV_VERSION", "UPGRADE_PIP_TO_LATEST",
	"DISABLE_SETUP_PY_PROCESSING", "DISABLE_PYPROJECT_TOML_PROCESSING", "MICROPIPENV_DEV",
	// the native locks (builder.InstallNativeLock)
	"PYS2I_LOCK_FILE", "PYS2I_LOCK_EXTRAS", "PYS2I_LOCK_GROUPS", "PYS2I_DISABLE_NATIVE_LOCKS",
}

// cosmetic PIP_* variables that do not change the result.
var cosmetic = map[string]bool{
	"PIP_NO_CACHE_DIR": true, "PIP_CACHE_DIR": true, "PIP_DISABLE_PIP_VERSION_CHECK": true,
	"PIP_VERBOSE": true, "PIP_QUIET": true, "PIP_PROGRESS_BAR": true, "PIP_NO_COLOR": true,
	"PIP_DEFAULT_TIMEOUT": true, "PIP_RETRIES": true, "PIPENV_VERBOSITY": true, "PIPENV_CACHE_DIR": true,
	"PIPENV_NOSPIN": true, "PIPENV_HIDE_EMOJIS": true,
}

// IsInputVar reports whether a variable is part of the fingerprint.
func IsInputVar(name string) bool {
	for _, v := range InputVars {
		if v == name {
			return true
		}
	}
	return (strings.HasPrefix(name, "PIP_") || strings.HasPrefix(name, "PIPENV_")) && !cosmetic[name]
}

// Fingerprint maps each dependency input ("file:NAME", "env:NAME",
// "python") to the sha256 of its content or value.
type Fingerprint map[string]string

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Compute fingerprints the inputs: files in dir, the environment env (last
// value wins), and the interpreter's version.
func Compute(dir string, env []string, python string) (Fingerprint, error) {
	fp := Fingerprint{"schema": schema, "python": hash([]byte(python))}
	names := append([]string(nil), InputFiles...)
	if m, err := filepath.Glob(filepath.Join(dir, "requirements*.txt")); err == nil {
		for _, p := range m {
			names = append(names, filepath.Base(p))
		}
	}
	for _, pattern := range []string{"constraints*.txt", "pylock.*.toml"} {
		if m, err := filepath.Glob(filepath.Join(dir, pattern)); err == nil {
			for _, p := range m {
				names = append(names, filepath.Base(p))
			}
		}
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		fp["file:"+n] = hash(b)
	}
	vals := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if IsInputVar(k) {
			vals[k] = v
		}
	}
	for k, v := range vals {
		if v != "" { // empty is off, as unset
			// Credentials do not change what is installed: hashing them
			// would let an image's reader test password guesses offline.
			fp["env:"+k] = hash([]byte(k + "=" + redact.StripURL(v)))
		}
	}
	return fp, nil
}

// Equal reports whether two fingerprints have the same inputs.
func (f Fingerprint) Equal(g Fingerprint) bool {
	if len(f) != len(g) {
		return false
	}
	for k, v := range f {
		if g[k] != v {
			return false
		}
	}
	return true
}

// Diff names the inputs that differ, sorted.
func (f Fingerprint) Diff(g Fingerprint) []string {
	var d []string
	for k, v := range f {
		if g[k] != v {
			d = append(d, k)
		}
	}
	for k := range g {
		if _, ok := f[k]; !ok {
			d = append(d, k)
		}
	}
	sort.Strings(d)
	return d
}

// Write stores the fingerprint as JSON. A file that already says the same
// is left alone, so a rebuild on the previous dependency layer does not
// copy it up into a new layer.
func (f Fingerprint) Write(path string) error {
	b, _ := json.MarshalIndent(f, "", "  ")
	if old, err := os.ReadFile(path); err == nil && string(old) == string(b)+"\n" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o775); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o664); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Read loads a fingerprint written by Write.
func Read(path string) (Fingerprint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f Fingerprint
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("corrupt fingerprint %s: %w", path, err)
	}
	return f, nil
}
