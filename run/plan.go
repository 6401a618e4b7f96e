package run

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pys2i/pys2i/internal/envlist"
)

// Stream is where a message goes.
type Stream int

const (
	Stdout Stream = 1
	Stderr Stream = 2
)

// Command is a program with its argv (Argv[0] looked up in Env's PATH unless
// it has a slash), working directory and complete environment.
type Command struct {
	Argv []string
	Dir  string
	Env  []string
}

// Step is one thing run does before the final exec, in order: print Text on
// Stream, or, when Cmd is set, run Cmd to completion (a failure ends run
// with the command's status, as `set -e` does upstream).
type Step struct {
	Stream Stream
	Text   string
	Cmd    *Command
}

// Strategy names the run strategy a plan chose.
type Strategy string

const (
	BareGunicorn Strategy = "bare-gunicorn"
	Script       Strategy = "script"
	File         Strategy = "file"
	Gunicorn     Strategy = "gunicorn"
	ModWSGI      Strategy = "mod_wsgi"
	Runserver    Strategy = "runserver"
	Fail         Strategy = "error"
)

// Plan is the decision: the steps, then either exec Exec (under the init
// wrapper when InitWrapper is set) or, when Exec is nil, exit with Exit.
type Plan struct {
	Strategy    Strategy
	Steps       []Step
	Exec        *Command
	InitWrapper bool
	Exit        int
}

// Input is everything the decision looks at.
type Input struct {
	// Env is the environment run was started with (after the passwd
	// set-up's additions), KEY=VALUE.
	Env []string
	// Root is the file system root the in-container paths are read under:
	// "/" in a container, a test directory in tests.
	Root string
	// Dir is the initial working directory (WORKDIR, /opt/app-root/src).
	Dir string
	// UID is the user run runs as (for mod_wsgi's server root).
	UID int
	// Limits are the cgroup limits (ReadLimits); used only when a worker
	// count has to be computed, and only then are their warnings printed.
	Limits Limits
	// SetupPyName runs `python SETUP_PY --name` in dir with env: upstream's
	// way to name the app module, used only when setup.py's name= cannot be
	// read statically. Nil means the fallback is unavailable.
	SetupPyName func(setupPy, dir string, env []string) (string, error)
}

// The upstream messages (shared/spec/sclorg-python-scripts.md section 3).
const (
	msgUsingConf         = "---> Using gunicorn.conf.py"
	msgServingBare       = "---> Serving application with gunicorn ..."
	msgScript            = "---> Running application from script (%s) ..."
	msgFile              = "---> Running application from Python script (%s) ..."
	msgNotFound          = "ERROR: file '%s' not found."
	msgMigrating         = "---> Migrating database ..."
	msgNoManage          = "WARNING: seems that you're using Django, but we could not find a 'manage.py' file."
	msgSkippedMigrate    = "Skipped 'python manage.py migrate'."
	msgSkippedRunserver  = "Skipped 'python manage.py runserver'."
	msgGunicorn          = "---> Serving application with gunicorn (%s) with %s settings ..."
	msgRunserver         = "---> Serving application with 'manage.py runserver 0.0.0.0:%s' ..."
	msgRunserverWarn     = "WARNING: this is NOT a recommended way to run you application in production!"
	msgRunserverConsider = "Consider using gunicorn or some other production web server."
	msgCantRun           = "ERROR: don't know how to run your application."
	msgPleaseSet         = "Please set either APP_MODULE, APP_FILE or APP_SCRIPT environment variables, or create a file 'app.py' to launch your application."
	// Ours (no upstream counterpart).
	msgModWSGI     = "---> Serving application with mod_wsgi-express (%s) on port %s with %s processes and %s threads ..."
	msgNotExecWarn = "WARNING: '%s' is not executable (was its exec bit lost?); running it with %s."
)

type decider struct {
	in   Input
	env  *envList
	plan Plan

	// What the steps of decide learn and pass on, in the order they learn it.
	cwd, appServer, appHome string
	initWrapper             bool
	script, file, module    string // APP_SCRIPT, APP_FILE, APP_MODULE (or the defaults)
	defaults                bool   // script and file are app.sh and app.py
	django, hasManage       bool
	port                    string
}

// Decide chooses how the application starts, with upstream run's exact
// precedence, messages and streams, plus mod_wsgi-express (see the package
// documentation). It reads files under in.Root but changes nothing.
func Decide(in Input) Plan {
	if in.Root == "" {
		in.Root = "/"
	}
	d := &decider{in: in, env: newEnvList(in.Env)}
	d.decide()
	return d.plan
}

func (d *decider) say(s Stream, format string, args ...any) {
	d.plan.Steps = append(d.plan.Steps, Step{Stream: s, Text: fmt.Sprintf(format, args...)})
}

func (d *decider) fail(format string, args ...any) {
	d.say(Stderr, format, args...)
	d.plan.Strategy, d.plan.Exit, d.plan.Exec = Fail, 1, nil
}

func (d *decider) exec(s Strategy, dir string, argv ...string) {
	d.plan.Strategy = s
	d.plan.Exec = &Command{Argv: argv, Dir: dir, Env: d.env.list()}
}

// host returns the host path of an in-root path.
func (d *decider) host(p string) string { return filepath.Join(d.in.Root, p) }

// abs makes p absolute against dir.
func abs(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// lookPath is bash's `hash NAME`: the first executable regular file NAME in
// PATH (relative entries against dir), as an in-root path, or "".
func (d *decider) lookPath(name, dir string) string {
	for _, p := range filepath.SplitList(d.env.get("PATH")) {
		if p == "" {
			p = "."
		}
		cand := filepath.Join(abs(dir, p), name)
		fi, err := os.Stat(d.host(cand))
		if err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return cand
		}
	}
	return ""
}

// python is what `python -c ...` run in dir would see.
func (d *decider) python(dir string) pyEnv {
	extra := []string{dir}
	if pp, ok := d.env.lookup("PYTHONPATH"); ok {
		for _, p := range filepath.SplitList(pp) {
			if p != "" {
				extra = append(extra, abs(dir, p))
			}
		}
	}
	pyDir := ""
	if py := d.lookPath("python", dir); py != "" {
		pyDir = filepath.Dir(py)
	}
	return newPyEnv(d.in.Root, pyDir, extra, d.env.get("HOME"))
}

// decide runs upstream run's steps in order (each method's comment gives its
// number in the package documentation); a step returning true has settled
// the plan.
func (d *decider) decide() {
	d.cwd = d.in.Dir
	if d.cwd == "" {
		d.cwd = "/"
	}
	if d.badAppServer() || d.bareGunicorn() || d.enterAppHome() {
		return
	}
	d.appDefaults()
	if d.appScript() || d.appFile() {
		return
	}
	d.migrate()
	d.defaultPort()
	if d.wsgiServer() || d.runserver() {
		return
	}
	d.cantRun()
}

// badAppServer fails on an APP_SERVER other than gunicorn or mod_wsgi.
func (d *decider) badAppServer() bool {
	d.appServer = d.env.get("APP_SERVER")
	switch d.appServer {
	case "", "gunicorn", "mod_wsgi":
		return false
	}
	d.fail("ERROR: APP_SERVER must be 'gunicorn' or 'mod_wsgi', not '%s'.", d.appServer)
	return true
}

// bareGunicorn is step 1: gunicorn.conf.py with wsgi_app, in the initial
// directory.
func (d *decider) bareGunicorn() bool {
	cwd := d.cwd
	if d.appServer == "mod_wsgi" || d.lookPath("gunicorn", cwd) == "" {
		return false
	}
	conf, err := os.ReadFile(d.host(filepath.Join(cwd, "gunicorn.conf.py")))
	if err != nil || !fileExists(d.host(filepath.Join(cwd, "gunicorn.conf.py"))) {
		return false
	}
	if v, ok := d.python(cwd).version("gunicorn"); ok && atLeast201(v) && bytes.Contains(conf, []byte("wsgi_app")) {
		d.say(Stdout, msgUsingConf)
		d.say(Stdout, msgServingBare)
		d.exec(BareGunicorn, cwd, "gunicorn")
		d.plan.InitWrapper = true // see gunicorn
		return true
	}
	return false
}

// enterAppHome is step 2: APP_HOME (readlink -f, then cd) and PYTHONPATH;
// it fails when APP_HOME is missing.
func (d *decider) enterAppHome() bool {
	appHome := d.env.get("APP_HOME")
	if appHome == "" {
		appHome = "."
	}
	d.appHome = d.realpath(abs(d.cwd, appHome))
	if !dirExists(d.host(d.appHome)) {
		d.fail("ERROR: APP_HOME directory '%s' not found.", d.appHome)
		return true
	}
	if pp, ok := d.env.lookup("PYTHONPATH"); ok {
		// Upstream assigns PYTHONPATH without exporting it: it reaches the
		// app only when it was already in the environment. Kept as is.
		if pp != "" {
			pp = ":" + pp
		}
		d.env.set("PYTHONPATH", d.cwd+pp)
	}
	d.initWrapper = d.env.get("ENABLE_INIT_WRAPPER") != ""
	return false
}

// appDefaults is step 3: the app.sh / app.py defaults only when no APP_* is
// set.
func (d *decider) appDefaults() {
	d.script, d.file, d.module = d.env.get("APP_SCRIPT"), d.env.get("APP_FILE"), d.env.get("APP_MODULE")
	d.defaults = d.script == "" && d.file == "" && d.module == ""
	if d.defaults {
		d.script, d.file = "app.sh", "app.py"
	}
}

// appScript is step 4: APP_SCRIPT; a user-set one that is missing fails.
func (d *decider) appScript() bool {
	if d.script == "" {
		return false
	}
	p := abs(d.appHome, d.script)
	if !fileExists(d.host(p)) {
		return d.notFound(d.script)
	}
	shown := d.script
	if !filepath.IsAbs(shown) {
		shown = "./" + shown
	}
	d.say(Stdout, msgScript, shown)
	argv := []string{shown}
	if fi, err := os.Stat(d.host(p)); err == nil && fi.Mode()&0o111 == 0 {
		interp := interpreter(d.host(p))
		d.say(Stdout, msgNotExecWarn, shown, strings.Join(interp, " "))
		argv = append(interp, shown)
	}
	d.exec(Script, d.appHome, argv...)
	d.plan.InitWrapper = d.initWrapper
	return true
}

// appFile is step 5: APP_FILE; a user-set one that is missing fails.
func (d *decider) appFile() bool {
	if d.file == "" {
		return false
	}
	if !fileExists(d.host(abs(d.appHome, d.file))) {
		return d.notFound(d.file)
	}
	d.say(Stdout, msgFile, d.file)
	d.exec(File, d.appHome, "python", d.file)
	d.plan.InitWrapper = d.initWrapper
	return true
}

// notFound reports a missing APP_SCRIPT or APP_FILE (on stdout, as
// upstream) and ends the plan, unless name is only the app.sh / app.py
// default.
func (d *decider) notFound(name string) bool {
	if d.defaults {
		return false
	}
	d.say(Stdout, msgNotFound, name)
	d.plan.Strategy, d.plan.Exit = Fail, 1
	return true
}

// migrate is step 6: Django's migrate, unless DISABLE_MIGRATE.
func (d *decider) migrate() {
	d.django = d.python(d.appHome).importable("django")
	d.hasManage = fileExists(d.host(filepath.Join(d.appHome, "manage.py")))
	if !d.django || d.env.get("DISABLE_MIGRATE") != "" {
		return
	}
	if !d.hasManage {
		d.say(Stdout, msgNoManage)
		d.say(Stdout, msgSkippedMigrate)
		return
	}
	d.say(Stdout, msgMigrating)
	d.plan.Steps = append(d.plan.Steps, Step{Cmd: &Command{
		Argv: []string{"python", "./manage.py", "migrate", "--noinput"},
		Dir:  d.appHome, Env: d.env.list(),
	}})
}

// defaultPort is step 7: PORT, exported (upstream leaves a defaulted PORT
// unexported, so an APP_CONFIG without bind listened on 127.0.0.1:8000; we
// export it so gunicorn, mod_wsgi and the app agree on the port).
func (d *decider) defaultPort() {
	d.port = d.env.get("PORT")
	if d.port == "" {
		d.port = "8080"
	}
	d.env.set("PORT", d.port)
}

// wsgiServer is step 8: gunicorn (or mod_wsgi-express) with APP_MODULE,
// wsgi.py or setup.py's name; it passes on when there is no server or no
// module.
func (d *decider) wsgiServer() bool {
	server, failed := d.chooseServer()
	if failed {
		return true
	}
	if server == "" {
		return false
	}
	module := d.module
	setupPy := findSetupPy(d.in.Root, d.env.get("HOME"))
	if module == "" && fileExists(d.host(filepath.Join(d.appHome, "wsgi.py"))) {
		module = "wsgi"
	} else if module == "" && setupPy != "" {
		name, err := d.setupName(setupPy, d.appHome)
		if err != nil {
			d.fail("ERROR: cannot read the application name from %s: %v", setupPy, err)
			return true
		}
		module = name
	}
	if module == "" {
		return false
	}
	if server == "gunicorn" {
		d.gunicorn(module, d.appHome, d.port)
	} else {
		d.modWSGI(module, d.appHome, d.port)
	}
	return true
}

// chooseServer picks gunicorn or mod_wsgi ("" when neither is in PATH);
// failed when APP_SERVER names one that is not installed.
func (d *decider) chooseServer() (server string, failed bool) {
	hasGunicorn := d.lookPath("gunicorn", d.appHome) != ""
	hasModWSGI := d.lookPath("mod_wsgi-express", d.appHome) != ""
	switch {
	case d.appServer == "gunicorn" && !hasGunicorn:
		d.fail("ERROR: APP_SERVER is 'gunicorn' but gunicorn was not found in PATH.")
		return "", true
	case d.appServer == "mod_wsgi" && !hasModWSGI:
		d.fail("ERROR: APP_SERVER is 'mod_wsgi' but mod_wsgi-express was not found in PATH.")
		return "", true
	case d.appServer != "":
		return d.appServer, false
	case hasGunicorn:
		return "gunicorn", false
	case hasModWSGI:
		return "mod_wsgi", false
	}
	return "", false
}

// runserver is step 9: Django's development server, or the manage.py
// warning.
func (d *decider) runserver() bool {
	if !d.django {
		return false
	}
	if !d.hasManage {
		d.say(Stdout, msgNoManage)
		d.say(Stdout, msgSkippedRunserver)
		return false
	}
	d.say(Stdout, msgRunserver, d.port)
	d.say(Stdout, msgRunserverWarn)
	d.say(Stdout, msgRunserverConsider)
	d.exec(Runserver, d.appHome, "python", "./manage.py", "runserver", "0.0.0.0:"+d.port)
	d.plan.InitWrapper = d.initWrapper
	return true
}

// cantRun is step 10: nothing to run.
func (d *decider) cantRun() {
	d.say(Stderr, msgCantRun)
	d.say(Stderr, msgPleaseSet)
	d.plan.Strategy, d.plan.Exit = Fail, 1
}

func (d *decider) setupName(setupPy, appHome string) (string, error) {
	if src, err := os.ReadFile(d.host(setupPy)); err == nil {
		if name, ok := staticSetupName(src); ok {
			return name, nil
		}
	}
	if d.in.SetupPyName == nil {
		return "", fmt.Errorf("name= is not a plain string and python is not available to ask")
	}
	name, err := d.in.SetupPyName(setupPy, appHome, d.env.list())
	if err != nil {
		return "", err
	}
	return strings.TrimRight(name, "\n"), nil
}

// workers prints cgroup-limits' warnings and returns the default worker count.
func (d *decider) workers() int {
	for _, w := range d.in.Limits.Warnings {
		d.say(Stderr, "%s", w)
	}
	return Workers(d.in.Limits)
}

func (d *decider) gunicorn(module, appHome, port string) {
	wc := d.env.get("WEB_CONCURRENCY")
	if wc == "" {
		wc = strconv.Itoa(d.workers())
	}
	d.env.set("WEB_CONCURRENCY", wc)
	args, conf := d.env.get("GUNICORN_CMD_ARGS"), d.env.get("APP_CONFIG")
	label := "custom"
	if args == "" && conf == "" {
		args, label = "--bind=0.0.0.0:"+port+" --access-logfile=-", "default"
	}
	words, err := SplitArgs(args)
	if err != nil {
		d.fail("ERROR: GUNICORN_CMD_ARGS: %v", err)
		return
	}
	d.say(Stdout, msgGunicorn, module, label)
	argv := append([]string{"gunicorn", module}, words...)
	d.exec(Gunicorn, appHome, append(argv, "--config", conf)...)
	// Always under the init wrapper, ENABLE_INIT_WRAPPER or not (upstream
	// execs gunicorn): as PID 1 gunicorn's arbiter never sees a TERM that
	// comes before it sets its handlers (the kernel drops it for a
	// namespace's init), and a worker forked just before a TERM loses the
	// one the arbiter relays; the wrapper sends that one again (Supervise).
	d.plan.InitWrapper = true
}

func (d *decider) modWSGI(module, appHome, port string) {
	procs := d.env.get("MOD_WSGI_PROCESSES")
	if procs == "" {
		procs = d.env.get("WEB_CONCURRENCY")
	}
	if procs == "" {
		procs = strconv.Itoa(d.workers())
	}
	threads := d.env.get("MOD_WSGI_THREADS")
	if threads == "" {
		threads = "5"
	}
	for name, v := range map[string]string{"MOD_WSGI_PROCESSES (or WEB_CONCURRENCY)": procs, "MOD_WSGI_THREADS": threads} {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			d.fail("ERROR: %s must be a positive integer, not '%s'.", name, v)
			return
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		d.fail("ERROR: PORT must be a port number, not '%s'.", port)
		return
	}
	mod, callable, _ := strings.Cut(module, ":")
	if callable == "" {
		callable = "application"
	}
	if !isIdentifier(callable) {
		d.fail("ERROR: mod_wsgi-express needs APP_MODULE as 'module' or 'module:callable', not '%s'.", module)
		return
	}
	tmp := d.env.get("TMPDIR")
	if tmp == "" {
		tmp = "/tmp"
	}
	root := filepath.Join(tmp, fmt.Sprintf("mod_wsgi-%s-%d", port, d.in.UID))
	d.say(Stdout, msgModWSGI, module, port, procs, threads)
	d.exec(ModWSGI, appHome, "mod_wsgi-express", "start-server",
		"--application-type", "module", "--callable-object", callable,
		"--port", port, "--processes", procs, "--threads", threads,
		"--log-to-terminal", "--access-log",
		"--server-root", root, "--locale", d.locale(), mod)
}

// locale picks a locale the image has for mod_wsgi-express: the
// environment's (LC_ALL, LC_CTYPE, LANG) when it exists and is not C/POSIX,
// else en_US.UTF-8 when present, else C.UTF-8.
func (d *decider) locale() string {
	for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := d.env.get(k); v != "" {
			if v != "C" && v != "POSIX" && d.localeExists(v) {
				return v
			}
			break
		}
	}
	if d.localeExists("en_US.UTF-8") {
		return "en_US.UTF-8"
	}
	return "C.UTF-8"
}

func (d *decider) localeExists(name string) bool {
	lang, codeset, ok := strings.Cut(name, ".")
	norm := name
	if ok {
		norm = lang + "." + strings.ToLower(strings.ReplaceAll(codeset, "-", ""))
	}
	if strings.EqualFold(norm, "c.utf8") {
		return true // built into glibc since 2.35 and shipped by every distribution we target
	}
	for _, n := range []string{name, norm} {
		if dirExists(d.host(filepath.Join("/usr/lib/locale", n))) {
			return true
		}
	}
	if b, err := os.ReadFile(d.host("/usr/lib/locale/locale-archive")); err == nil {
		return bytes.Contains(b, append([]byte(norm), 0))
	}
	return false
}

// realpath is readlink -f for paths inside the root.
func (d *decider) realpath(p string) string {
	if d.in.Root == "/" {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return p
	}
	if r, err := filepath.EvalSymlinks(d.host(p)); err == nil {
		if rel, err := filepath.Rel(d.in.Root, r); err == nil && !strings.HasPrefix(rel, "..") {
			return filepath.Join("/", rel)
		}
	}
	return p
}

// interpreter is how a script without its exec bit is started: its #! line
// (interpreter and at most one argument, as the kernel reads it), else /bin/sh.
func interpreter(path string) []string {
	f, err := os.Open(path)
	if err == nil {
		defer f.Close()
		buf := make([]byte, 256)
		n, _ := f.Read(buf)
		line, _, _ := bytes.Cut(buf[:n], []byte("\n"))
		if rest, ok := bytes.CutPrefix(line, []byte("#!")); ok {
			rest = bytes.TrimSpace(rest)
			if i := bytes.IndexAny(rest, " \t"); i >= 0 {
				arg := bytes.TrimSpace(rest[i:])
				return []string{string(rest[:i]), string(arg)}
			}
			if len(rest) > 0 {
				return []string{string(rest)}
			}
		}
	}
	return []string{"/bin/sh"}
}

func isIdentifier(s string) bool {
	for i, c := range s {
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return s != ""
}

// envList is an environment in order, read and changed by envlist's rule.
type envList struct{ kv []string }

func newEnvList(env []string) *envList { return &envList{kv: append([]string(nil), env...)} }

func (e *envList) lookup(k string) (string, bool) { return envlist.Lookup(e.kv, k) }

func (e *envList) get(k string) string { return envlist.Get(e.kv, k) }

func (e *envList) set(k, v string) { e.kv = envlist.Set(e.kv, k, v) }

func (e *envList) list() []string { return append([]string(nil), e.kv...) }
