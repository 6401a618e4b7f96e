// Package assemble decides and performs the S2I assemble phase: it moves the
// source into place and drives the builder, as the upstream assemble script
// does (shared/spec/sclorg-python-scripts.md section 2). Decisions are pure
// functions of the configuration and a view of the file system (plan.go);
// effects are in assemble.go.
package assemble

import (
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/pys2i/pys2i/assemble/artifacts"
	"github.com/pys2i/pys2i/builder"
	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
	"github.com/pys2i/pys2i/internal/redact"
)

// Config is what assemble reads from its environment. Every flag is on when
// its variable is non-empty ("false" and "0" included), as upstream.
type Config struct {
	EnablePipenv         bool
	EnableMicropipenv    bool
	PinPipenvVersion     string
	PipIndexURL          string
	UpgradePip           bool
	DisableSetupPy       bool
	DisablePyproject     bool
	DisableCollectstatic bool
	AppHome              string // APP_HOME, "" for "."
	Home                 string // HOME, where the source goes
	AppRoot              string // APP_ROOT (the venv), /opt/app-root
	PythonPath           string // PYTHONPATH
	Source               string // /tmp/src
	Artifacts            string // /tmp/artifacts
	PipIni               string // PipIniPath
	StateDir             string // PYS2I_STATE_DIR: fingerprint and pip cache, outside $APP_ROOT
	NoCache              bool   // PYS2I_NO_CACHE: keep pip's cache off (PIP_NO_CACHE_DIR as set)
	KeepCache            bool   // PYS2I_KEEP_CACHE: leave pip's cache in the image after a non-incremental build
	// DepsInPlace (PYS2I_DEPS_IN_PLACE, set by pys2i build in the sandbox
	// only) says the root already holds the previous build's dependency
	// layer: if its fingerprint matches, pip does not run.
	DepsInPlace bool
	// LockFile (PYS2I_LOCK_FILE) names the native lock to install
	// (uv.lock, pylock.toml, pylock.NAME.toml); NoNativeLocks
	// (PYS2I_DISABLE_NATIVE_LOCKS) keeps upstream's choice only.
	LockFile      string
	NoNativeLocks bool
	// SourceDateEpoch (SOURCE_DATE_EPOCH) asks for a reproducible build:
	// pip's random build directories are then scrubbed out of the
	// extensions it compiled.
	SourceDateEpoch string
}

// PipIniPath is where upstream appends the index URL (a file pip on Linux
// does not read; see the spec, section 2.2 step 4).
const PipIniPath = "/opt/app-root/src/pip.ini"

// ConfigFromEnv reads the configuration with getenv (os.Getenv).
func ConfigFromEnv(getenv func(string) string) Config {
	on := func(k string) bool { return getenv(k) != "" }
	c := Config{
		EnablePipenv:         on("ENABLE_PIPENV"),
		EnableMicropipenv:    on("ENABLE_MICROPIPENV"),
		PinPipenvVersion:     getenv("PIN_PIPENV_VERSION"),
		PipIndexURL:          getenv("PIP_INDEX_URL"),
		UpgradePip:           on("UPGRADE_PIP_TO_LATEST"),
		DisableSetupPy:       on("DISABLE_SETUP_PY_PROCESSING"),
		DisablePyproject:     on("DISABLE_PYPROJECT_TOML_PROCESSING"),
		DisableCollectstatic: on("DISABLE_COLLECTSTATIC"),
		AppHome:              getenv("APP_HOME"),
		Home:                 getenv("HOME"),
		AppRoot:              getenv("APP_ROOT"),
		PythonPath:           getenv("PYTHONPATH"),
		Source:               "/tmp/src",
		Artifacts:            "/tmp/artifacts",
		PipIni:               PipIniPath,
		StateDir:             getenv(contract.EnvStateDir),
		NoCache:              on(contract.EnvNoCache),
		KeepCache:            on(contract.EnvKeepCache),
		DepsInPlace:          on(contract.EnvDepsInPlace),
		SourceDateEpoch:      getenv("SOURCE_DATE_EPOCH"),
		LockFile:             getenv(builder.EnvLockFile),
		NoNativeLocks:        on("PYS2I_DISABLE_NATIVE_LOCKS"),
	}
	if c.StateDir == "" {
		c.StateDir = contract.DefaultStateDir
	}
	if c.AppRoot == "" {
		c.AppRoot = contract.DefaultAppRoot
	}
	if c.Home == "" {
		c.Home = c.AppRoot + "/src"
	}
	return c
}

// Deps is the dependency step's branch; the first that applies wins.
type Deps int

const (
	DepsNone         Deps = iota
	DepsPipenv            // ENABLE_PIPENV
	DepsMicropipenv       // ENABLE_MICROPIPENV (native lock install)
	DepsRequirements      // requirements.txt
	DepsNativeLock        // uv.lock or pylock.toml, read in Go (Plan.NativeLock)
)

func (d Deps) String() string {
	return [...]string{"none", "pipenv", "micropipenv", "requirements.txt", "native lock"}[d]
}

// PipenvInput is what `pipenv install` is given.
type PipenvInput int

const (
	PipenvNothing      PipenvInput = iota // neither file: nothing, not an error
	PipenvDeploy                          // Pipfile: install --deploy
	PipenvRequirements                    // requirements.txt: install -r requirements.txt
)

// Plan is what assemble will do, decided once the source is in $HOME.
type Plan struct {
	Conflict bool // pipenv and micropipenv both on: exit 3 before anything
	PipIni   bool
	// PipIniURL is the index URL pip.ini gets: PIP_INDEX_URL without the
	// credentials of its URLs, since the file stays in the image; pip in
	// the build reads the variable itself. PipIniStripped says some were.
	PipIniURL      string
	PipIniStripped bool
	UpgradePip     bool
	Deps           Deps
	PipenvPin      string // "==X" appended to "pipenv", or ""
	PipenvInput    PipenvInput
	// NativeLock is the lock file DepsNativeLock installs (uv.lock,
	// pylock.toml, pylock.NAME.toml). The application step then runs with
	// --no-deps (the lock holds its dependencies), and not at all for a
	// uv.lock, which installs its project itself (or has a virtual root).
	NativeLock string
	SetupPy    bool // pip install . for setup.py/setup.cfg
	Pyproject  bool // pip install . for pyproject.toml (may run after SetupPy too)
	// NormalizeBuildPaths: after the installs, scrub pip's random build
	// directories out of compiled extensions (package buildpaths).
	NormalizeBuildPaths bool
}

// Conflict is the check that runs before anything moves.
func Conflict(c Config) bool { return c.EnablePipenv && c.EnableMicropipenv }

// Decide plans assemble from the configuration and the application
// directory's files (app is $HOME after the move).
func Decide(c Config, app fs.FS) Plan {
	p := Plan{
		Conflict:            Conflict(c),
		PipIni:              c.PipIndexURL != "",
		PipIniURL:           redact.StripURL(c.PipIndexURL),
		UpgradePip:          c.UpgradePip,
		NormalizeBuildPaths: c.SourceDateEpoch != "",
	}
	p.PipIniStripped = p.PipIniURL != c.PipIndexURL
	has := func(name string) bool {
		st, err := fs.Stat(app, name)
		return err == nil && !st.IsDir()
	}
	switch {
	case c.EnablePipenv:
		p.Deps = DepsPipenv
		if c.PinPipenvVersion != "" {
			p.PipenvPin = "==" + c.PinPipenvVersion
		}
		switch {
		case has("Pipfile"):
			p.PipenvInput = PipenvDeploy
		case has("requirements.txt"):
			p.PipenvInput = PipenvRequirements
		}
	case c.EnableMicropipenv && (c.LockFile != "" || !hasMicropipenvInput(has)) && nativeLock(c, app) != "":
		// micropipenv's own inputs win; a native lock only when asked for
		// by name or when micropipenv would have nothing to install.
		p.Deps, p.NativeLock = DepsNativeLock, nativeLock(c, app)
	case c.EnableMicropipenv:
		p.Deps = DepsMicropipenv
	case nativeLock(c, app) != "":
		p.Deps, p.NativeLock = DepsNativeLock, nativeLock(c, app)
	case has("requirements.txt"):
		p.Deps = DepsRequirements
	}
	p.SetupPy = (has("setup.py") || has("setup.cfg")) && !c.DisableSetupPy
	p.Pyproject = has("pyproject.toml") && !c.DisablePyproject
	if p.NativeLock == builder.UvLockFile {
		p.SetupPy, p.Pyproject = false, false
	}
	return p
}

// hasMicropipenvInput: one of micropipenv's inputs is in the directory.
func hasMicropipenvInput(has func(string) bool) bool {
	return has("Pipfile.lock") || has("poetry.lock") || has("requirements.txt")
}

// nativeLock is the native lock to install, "" for none or when
// PYS2I_DISABLE_NATIVE_LOCKS is set.
func nativeLock(c Config, app fs.FS) string {
	if c.NoNativeLocks {
		return ""
	}
	return builder.FindNativeLock(app, c.LockFile)
}

// WrapCompilers is env with CC and CXX set to run the compilers cc and cxx
// (the venv python's) through wrapper, so that pip's random build
// directories never reach what they write. A variable the build set itself
// is left alone (only scrubbing afterwards applies then), and so is a
// wrapper whose words hold spaces (setuptools splits CC on them).
func WrapCompilers(env, wrapper []string, cc, cxx string) []string {
	for _, w := range wrapper {
		if w == "" || strings.ContainsAny(w, " \t\n'\"\\") {
			return env
		}
	}
	for _, v := range [][2]string{{"CC", cc}, {"CXX", cxx}} {
		if v[1] == "" || envlist.Get(env, v[0]) != "" {
			continue
		}
		env = envlist.Set(env, v[0], strings.Join(append(append([]string{}, wrapper...), v[1]), " "))
	}
	return env
}

// ShouldCollectstatic is upstream's should_collectstatic.
func ShouldCollectstatic(c Config, djangoInstalled bool) bool {
	return djangoInstalled && !c.DisableCollectstatic
}

// PythonPathFor is the PYTHONPATH collectstatic runs with: the old working
// directory first, then any PYTHONPATH already set.
func PythonPathFor(cwd, old string) string {
	if old == "" {
		return cwd
	}
	return cwd + ":" + old
}

// ActivatedEnv is env with the venv at appRoot activated as bin/activate
// does: VIRTUAL_ENV set, appRoot/bin first in PATH, PYTHONHOME unset.
func ActivatedEnv(env []string, appRoot string) []string {
	bin := filepath.Join(appRoot, "bin")
	path := envlist.Get(env, "PATH")
	out := envlist.Unset(env, "PATH", "VIRTUAL_ENV", "PYTHONHOME")
	if path == "" {
		path = bin + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	} else if first, _, _ := strings.Cut(path, ":"); filepath.Clean(first) != bin {
		path = bin + ":" + path
	}
	return append(out, "VIRTUAL_ENV="+appRoot, "PATH="+path)
}

// ChildEnv is the environment of every child: the venv activated and, unless
// NoCache, pip's cache (and pipenv's) in the state directory, outside
// $APP_ROOT, so save-artifacts can keep it and no cache lands in the image's
// app tree.
func ChildEnv(c Config, env []string) []string {
	env = ActivatedEnv(env, c.AppRoot)
	if c.NoCache {
		return env
	}
	out := envlist.Unset(env, "PIP_NO_CACHE_DIR", "PIP_CACHE_DIR", "PIPENV_CACHE_DIR")
	return append(out,
		"PIP_CACHE_DIR="+filepath.Join(c.StateDir, artifacts.CacheDir),
		"PIPENV_CACHE_DIR="+filepath.Join(c.StateDir, artifacts.PipenvCacheDir))
}
