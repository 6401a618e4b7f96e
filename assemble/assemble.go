package assemble

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pys2i/pys2i/assemble/artifacts"
	"github.com/pys2i/pys2i/assemble/buildpaths"
	"github.com/pys2i/pys2i/builder"
	"github.com/pys2i/pys2i/fixperms"
	"github.com/pys2i/pys2i/internal/envlist"
	"github.com/pys2i/pys2i/internal/redact"
)

// ExitConflict is upstream's exit status for ENABLE_PIPENV with ENABLE_MICROPIPENV.
const ExitConflict = 3

// Assembler performs one assemble run.
type Assembler struct {
	Cfg    Config
	Env    []string // the process environment; children get it activated
	Dir    string   // the working directory (WORKDIR, $HOME in the images)
	Stdout io.Writer
	Stderr io.Writer
	Owner  int // the UID fix-permissions restricts itself to, -1 for root
}

// StepError is a failed step: what was being done and why.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string {
	return redact.URL(fmt.Sprintf("%s failed: %v", e.Step, e.Err))
}
func (e *StepError) Unwrap() error { return e.Err }

// Main is the assemble program: it returns the exit status. Output is
// passed through line by line with credentials in URLs masked; a failure
// ends with a one-line summary on stderr.
func Main(ctx context.Context, env []string, stdout, stderr io.Writer) int {
	out, errw := builder.NewLineWriter(stdout), builder.NewLineWriter(stderr)
	defer out.Flush()
	defer errw.Flush()
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(errw, "ERROR: assemble: %v\n", err)
		return 1
	}
	owner := -1
	if uid := os.Geteuid(); uid != 0 {
		owner = uid
	}
	a := &Assembler{
		Cfg: ConfigFromEnv(func(k string) string { return envlist.Get(env, k) }),
		Env: env, Dir: dir, Stdout: out, Stderr: errw, Owner: owner,
	}
	code, err := a.Run(ctx)
	if err != nil {
		out.Flush()
		fmt.Fprintf(errw, "ERROR: %v\n", err)
	}
	return code
}

// Run performs upstream's steps in order and returns the exit status.
func (a *Assembler) Run(ctx context.Context) (int, error) {
	if Conflict(a.Cfg) {
		fmt.Fprintln(a.Stdout, "ERROR: Pipenv and micropipenv cannot be enabled at the same time!")
		return ExitConflict, nil
	}
	if err := a.installSource(); err != nil {
		return 1, err
	}
	s := a.newAssembly()
	if err := a.previousBuild(s); err != nil {
		return 1, err
	}
	if s.found != nil {
		defer os.RemoveAll(s.found.Dir)
	}
	for _, phase := range []func(context.Context, *assembly) (int, error){a.preparePip, a.install, a.afterInstall} {
		if code, err := phase(ctx, s); err != nil {
			return code, err
		}
	}
	a.recordState(s)
	return 0, nil
}

// assembly is what one Run's phases share.
type assembly struct {
	plan  Plan
	x     *builder.Exec
	venv  builder.Venv
	fp    artifacts.Fingerprint // the dependency inputs of this build
	fpErr error                 // why fp could not be computed
	found *artifacts.Found      // the previous build's saved state, if any
	// reuse: the previous build's dependencies are in place; reproducible:
	// pip's build paths are to be normalized (SOURCE_DATE_EPOCH).
	reuse, reproducible bool
}

// installSource moves the source into place and fixes its permissions.
func (a *Assembler) installSource() error {
	fmt.Fprintln(a.Stdout, "---> Installing application source ...")
	if err := MoveSource(a.Cfg.Source, a.Cfg.Home, a.Stderr); err != nil {
		return &StepError{"Installing application source", err}
	}
	a.fixPermissions()
	return nil
}

// newAssembly decides the plan from the source in place.
func (a *Assembler) newAssembly() *assembly {
	c := a.Cfg
	return &assembly{
		plan: Decide(c, os.DirFS(a.Dir)),
		x:    &builder.Exec{Env: ChildEnv(c, a.Env), Dir: a.Dir, Stdout: a.Stdout, Stderr: a.Stderr},
		venv: builder.Venv{Root: c.AppRoot},
	}
}

// previousBuild restores the dependency state of the previous build
// (save-artifacts) when its fingerprint matches, and its pip cache, or
// keeps dependencies already in place (DepsInPlace).
func (a *Assembler) previousBuild(s *assembly) error {
	c := a.Cfg
	paths := artifacts.Paths{AppRoot: c.AppRoot, Home: c.Home, StateDir: c.StateDir}
	pyFull := ""
	if cfg, err := s.venv.Config(); err == nil {
		pyFull = cfg["version"] + cfg["version_info"]
	}
	s.fp, s.fpErr = artifacts.Compute(a.Dir, a.Env, pyFull)
	found, err := artifacts.Find(c.Artifacts)
	if err != nil {
		fmt.Fprintf(a.Stdout, "---> Ignoring the previous build's dependency state: %v\n", err)
	}
	if found != nil {
		if s.fpErr == nil && found.Fingerprint.Equal(s.fp) {
			if err := found.RestoreDeps(paths); err != nil {
				return &StepError{"Restoring dependencies of the previous build", err}
			}
			s.reuse = true
		}
		if err := found.RestoreCache(paths); err != nil {
			fmt.Fprintf(a.Stdout, "---> Ignoring the previous build's pip cache: %v\n", err)
		}
		s.found = found
	}
	if !s.reuse && c.DepsInPlace {
		s.reuse = depsInPlace(a.Stdout, filepath.Join(c.StateDir, artifacts.FingerprintFile), s.fp, s.fpErr)
	}
	return nil
}

// preparePip wraps the compilers for reproducible builds, writes pip.ini
// and upgrades pip, as far as the plan asks.
func (a *Assembler) preparePip(ctx context.Context, s *assembly) (int, error) {
	plan, x := s.plan, s.x
	// A reused dependency layer was made reproducible by the build that
	// made it: only what pip installs now needs it.
	s.reproducible = plan.NormalizeBuildPaths && (!s.reuse || plan.SetupPy || plan.Pyproject)
	if s.reproducible {
		a.wrapCompilers(ctx, x)
	}
	if plan.PipIni {
		fmt.Fprintln(a.Stdout, "---> Creating pip.ini config file")
		if plan.PipIniStripped {
			fmt.Fprintln(a.Stdout, pipIniNote)
		}
		if err := appendPipIni(a.Cfg.PipIni, plan.PipIniURL); err != nil {
			return 1, &StepError{"Creating pip.ini", err}
		}
	}
	if s.reuse {
		fmt.Fprintln(a.Stdout, "---> Reusing dependencies from the previous build")
	}
	if plan.UpgradePip && !s.reuse {
		fmt.Fprintln(a.Stdout, "---> Upgrading pip, setuptools and wheel to latest version ...")
		if err := x.PipInstallRetry(ctx, "pip",
			"WARNING: Installation of the latest pip, setuptools and wheel failed, trying again from official PyPI with pip --isolated install",
			"-U", "pip", "setuptools", "wheel"); err != nil {
			return builder.ExitCode(err), &StepError{"Upgrading pip", err}
		}
	}
	return 0, nil
}

// install installs the dependencies (none when reused), then the
// application itself when it has setup.py or pyproject.toml.
func (a *Assembler) install(ctx context.Context, s *assembly) (int, error) {
	if s.reuse {
		s.plan.Deps = DepsNone
	}
	plan, x := s.plan, s.x
	projectDone, err := a.installDeps(ctx, plan, x, s.venv)
	if err != nil {
		what := plan.Deps.String()
		if plan.Deps == DepsNativeLock {
			what = plan.NativeLock
		}
		return builder.ExitCode(err), &StepError{"Installing dependencies (" + what + ")", err}
	}
	if projectDone {
		plan.SetupPy, plan.Pyproject = false, false
	}
	// After a native lock, the application's dependencies are installed:
	// pip installs the application alone, as uv sync would.
	app := []string{"pip", "install", "."}
	if plan.NativeLock != "" {
		app = []string{"pip", "install", "--no-deps", "."}
	}
	if plan.SetupPy {
		fmt.Fprintln(a.Stdout, "---> Installing application (via setup.{py,cfg})...")
		if err := x.Run(ctx, app...); err != nil {
			return builder.ExitCode(err), &StepError{"Installing application (setup.py/setup.cfg)", err}
		}
	}
	if plan.Pyproject {
		fmt.Fprintln(a.Stdout, "---> Installing application (via pyproject.toml)...")
		if err := x.Run(ctx, app...); err != nil {
			return builder.ExitCode(err), &StepError{"Installing application (pyproject.toml)", err}
		}
	}
	return 0, nil
}

// afterInstall normalizes build paths, collects Django's static files and
// fixes permissions again.
func (a *Assembler) afterInstall(ctx context.Context, s *assembly) (int, error) {
	if s.reproducible {
		a.normalizeBuildPaths(s.venv.Root)
	}
	sp := s.venv.SitePackages()
	django := builder.HasDistribution(sp, "django") || builder.HasModule(sp, "django")
	if ShouldCollectstatic(a.Cfg, django) {
		if err := a.collectstatic(ctx, s.x); err != nil {
			return builder.ExitCode(err), &StepError{"Collecting Django static files", err}
		}
	}
	a.fixPermissions()
	return 0, nil
}

// recordState writes the dependency fingerprint for the next build and
// drops the pip cache unless it is to ship.
func (a *Assembler) recordState(s *assembly) {
	c := a.Cfg
	if s.fpErr == nil {
		if err := s.fp.Write(filepath.Join(c.StateDir, artifacts.FingerprintFile)); err != nil {
			fmt.Fprintf(a.Stdout, "---> Could not record the dependency fingerprint: %v\n", err)
		}
	}
	// The cache ships in the image only when the build is incremental
	// (s2i runs save-artifacts in the previous image, so the next build needs
	// it there) or when asked: otherwise no cache bytes land in the image.
	if s.found == nil && !c.KeepCache {
		for _, d := range []string{artifacts.CacheDir, artifacts.PipenvCacheDir} {
			if err := os.RemoveAll(filepath.Join(c.StateDir, d)); err != nil {
				fmt.Fprintf(a.Stdout, "---> Could not remove the pip cache: %v\n", err)
			}
		}
	}
}

// installDeps installs the dependencies; projectDone reports that a
// native lock installed the application itself.
func (a *Assembler) installDeps(ctx context.Context, plan Plan, x *builder.Exec, venv builder.Venv) (projectDone bool, err error) {
	if plan.Deps == DepsNativeLock {
		fmt.Fprintf(a.Stdout, "---> Installing dependencies from %s ...\n", plan.NativeLock)
		return builder.InstallNativeLock(ctx, x, a.Dir, plan.NativeLock)
	}
	return false, a.installUpstreamDeps(ctx, plan, x, venv)
}

func (a *Assembler) installUpstreamDeps(ctx context.Context, plan Plan, x *builder.Exec, venv builder.Venv) error {
	switch plan.Deps {
	case DepsPipenv:
		if err := x.InstallTool(ctx, a.Cfg.Home, venv.BaseInterpreter(), "pipenv", plan.PipenvPin); err != nil {
			return err
		}
		fmt.Fprintln(a.Stdout, "---> Installing dependencies via pipenv ...")
		switch plan.PipenvInput {
		case PipenvDeploy:
			return x.Run(ctx, "pipenv", "install", "--deploy")
		case PipenvRequirements:
			return x.Run(ctx, "pipenv", "install", "-r", "requirements.txt")
		}
	case DepsMicropipenv:
		fmt.Fprintln(a.Stdout, "---> Installing dependencies via micropipenv ...")
		return builder.InstallLocked(ctx, x, a.Dir, venv)
	case DepsRequirements:
		fmt.Fprintln(a.Stdout, "---> Installing dependencies ...")
		return builder.InstallRequirements(ctx, x, "requirements.txt")
	}
	return nil
}

// collectstatic is upstream's subshell: cd APP_HOME with the old directory
// on PYTHONPATH; a missing manage.py or a failing dry run only warns.
func (a *Assembler) collectstatic(ctx context.Context, x *builder.Exec) error {
	fmt.Fprintln(a.Stdout, "---> Collecting Django static files ...")
	appHome := a.Cfg.AppHome
	if appHome == "" {
		appHome = "."
	}
	if !filepath.IsAbs(appHome) {
		appHome = filepath.Join(a.Dir, appHome)
	}
	if r, err := filepath.EvalSymlinks(appHome); err == nil {
		appHome = r
	}
	if st, err := os.Stat(appHome); err != nil || !st.IsDir() {
		fmt.Fprintf(a.Stderr, "cd: %s: No such file or directory\n", appHome)
		return fmt.Errorf("APP_HOME %s is not a directory", appHome)
	}
	env := envlist.Set(x.Env, "PYTHONPATH", PythonPathFor(a.Dir, a.Cfg.PythonPath))
	if _, err := os.Stat(filepath.Join(appHome, "manage.py")); err != nil {
		fmt.Fprintln(a.Stdout, "WARNING: seems that you're using Django, but we could not find a 'manage.py' file.")
		fmt.Fprintln(a.Stdout, "'manage.py collectstatic' ignored.")
		return nil
	}
	quiet := &builder.Exec{Env: env, Dir: appHome, Stdout: io.Discard, Stderr: io.Discard}
	if err := quiet.Run(ctx, "python", "./manage.py", "collectstatic", "--dry-run", "--noinput"); err != nil {
		fmt.Fprintln(a.Stdout, "WARNING: could not run 'manage.py collectstatic'. To debug, run:")
		fmt.Fprintln(a.Stdout, "    $ python ./manage.py collectstatic --noinput")
		fmt.Fprintln(a.Stdout, "Ignore this warning if you're not serving static files with Django.")
		return nil
	}
	return x.RunIn(ctx, appHome, env, "python", "./manage.py", "collectstatic", "--noinput")
}

// wrapCompilers runs the venv's compilers through the in-image binary's
// compiler wrapper (buildpaths.CompilerWrapper), which maps pip's random
// build directories to fixed ones as they compile. Without it, scrubbing
// afterwards still applies.
func (a *Assembler) wrapCompilers(ctx context.Context, x *builder.Exec) {
	if envlist.Get(x.Env, "CC") != "" && envlist.Get(x.Env, "CXX") != "" {
		return // the build's own: WrapCompilers would keep them anyway
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(a.Stdout, "---> Could not map pip's temporary build paths at compile time: %v\n", err)
		return
	}
	cc, cxx, err := x.Compilers(ctx)
	if err != nil {
		fmt.Fprintf(a.Stdout, "---> Could not map pip's temporary build paths at compile time: %v\n", err)
		return
	}
	x.Env = WrapCompilers(x.Env, []string{self, buildpaths.CompilerWrapper}, cc, cxx)
}

// normalizeBuildPaths scrubs pip's random build directories out of the
// extensions pip compiled, so that the same source gives the same bytes. A
// failure is only reported: the venv works either way.
func (a *Assembler) normalizeBuildPaths(venv string) {
	changed, err := buildpaths.Venv(venv)
	if len(changed) > 0 {
		fmt.Fprintf(a.Stdout, "---> Normalized pip's temporary build paths in %d compiled file(s) (SOURCE_DATE_EPOCH is set): %s\n",
			len(changed), strings.Join(changed, ", "))
	}
	if err != nil {
		fmt.Fprintf(a.Stdout, "---> Could not normalize pip's temporary build paths: %v\n", err)
	}
}

func (a *Assembler) fixPermissions() {
	if _, err := os.Stat(a.Cfg.AppRoot); err != nil {
		fmt.Fprintf(a.Stderr, "ERROR: File or directory %s does not exist.\n", a.Cfg.AppRoot)
		return
	}
	fixperms.Fix(a.Cfg.AppRoot, fixperms.Options{Follow: fixperms.Physical, Owner: a.Owner, Stderr: a.Stderr})
}

func appendPipIni(path, url string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "[global]\nindex-url = %s\n", url)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pipIniNote is logged when pip.ini gets the index URL without credentials.
const pipIniNote = "---> pip.ini: the index URL is written without its credentials (user:password@), which stay out of the image"
