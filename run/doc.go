// Package run decides how the application starts (app.sh, app.py, gunicorn,
// mod_wsgi, Django) from the environment and the files in the image. It is
// the Go form of upstream's s2i/bin/run and cgroup-limits
// (shared/spec/sclorg-python-scripts.md sections 3, 5.3 and 7): Decide is a
// function from an Input (environment, file system root, working directory,
// cgroup limits) to a Plan (messages, steps, the program to exec); package
// runtime carries the plan out.
//
// Precedence, messages and streams are upstream's:
//
//  1. bare gunicorn: gunicorn in PATH, ./gunicorn.conf.py in the initial
//     directory mentioning wsgi_app, gunicorn at least 20.1: `gunicorn` with
//     no arguments (no WEB_CONCURRENCY, no PORT default, no migrate);
//  2. cd APP_HOME (default ".", resolved like readlink -f);
//  3. only when APP_SCRIPT, APP_FILE and APP_MODULE are all empty: the
//     app.sh and app.py defaults (empty counts as unset);
//  4. APP_SCRIPT, run as ./NAME when relative; a user-set one that is
//     missing prints "ERROR: file '...' not found." on stdout, exit 1;
//  5. APP_FILE, run as `python FILE`, same error;
//  6. Django installed and DISABLE_MIGRATE empty: `python ./manage.py
//     migrate --noinput` (a failure ends run with its status), or the
//     manage.py warning;
//  7. PORT defaults to 8080;
//  8. gunicorn with APP_MODULE, else wsgi (./wsgi.py), else the name in
//     the first setup.py under $HOME (depth 2, directory order as find):
//     `gunicorn MODULE <GUNICORN_CMD_ARGS words> --config <APP_CONFIG or "">`,
//     with `--bind=0.0.0.0:$PORT --access-logfile=-` only when APP_CONFIG
//     and GUNICORN_CMD_ARGS are both empty, and WEB_CONCURRENCY exported
//     (kept when set, else Workers of the cgroup limits);
//  9. Django: `python ./manage.py runserver 0.0.0.0:$PORT`;
//  10. else the two-line error on stderr, exit 1.
//
// The init wrapper (ENABLE_INIT_WRAPPER non-empty) applies to app.sh, app.py
// and runserver, as upstream; gunicorn always runs under it (below). Flags
// are on when non-empty ("false" too).
//
// Nothing starts Python to ask questions: gunicorn's version (the
// version_info of gunicorn/__init__.py, else the dist-info METADATA) and
// whether Django is importable are read from the site-packages of the
// `python` in PATH (the venv; the system's too when pyvenv.cfg includes it),
// the app directory and an exported PYTHONPATH. setup.py's name= is read
// statically when it is a single string literal; only otherwise is
// `python setup.py --name` run (Input.SetupPyName), as upstream always did.
//
// Differences from upstream, on purpose:
//
//   - PORT is exported on the gunicorn, mod_wsgi and runserver paths, so the
//     app, gunicorn (which binds 0.0.0.0:$PORT when it sees PORT and has no
//     bind) and mod_wsgi agree; upstream left a defaulted PORT unexported, so
//     an APP_CONFIG without bind listened on 127.0.0.1:8000. Bare-gunicorn
//     mode and app.sh/app.py still get the environment unchanged.
//   - GUNICORN_CMD_ARGS is split with shell quoting (SplitArgs, as gunicorn
//     itself splits that variable with shlex), not bash word splitting, so
//     `--name "my app"` is one argument and no glob is expanded; unbalanced
//     quotes are an error (stderr, exit 1) instead of a silent split.
//   - An APP_SCRIPT without its exec bit (upstream issue 371) runs through
//     its #! interpreter, or /bin/sh, with a warning, instead of failing.
//   - mod_wsgi-express, which upstream reaches only through a hand-written
//     app.py: when gunicorn is not in PATH but mod_wsgi-express is (or
//     APP_SERVER=mod_wsgi), and a module was found as for gunicorn, run
//     `mod_wsgi-express start-server --application-type module
//     --callable-object CALLABLE --port $PORT --processes N --threads T
//     --log-to-terminal --access-log --server-root $TMPDIR/mod_wsgi-PORT-UID
//     --locale L MODULE`, N from MOD_WSGI_PROCESSES, else WEB_CONCURRENCY,
//     else Workers; T from MOD_WSGI_THREADS (5); L the environment's locale
//     when the image has it, else en_US.UTF-8 when present, else C.UTF-8.
//     APP_SERVER=gunicorn|mod_wsgi forces the server (an error when it is
//     not installed; any other value is an error); mod_wsgi also skips
//     bare-gunicorn mode.
//   - gunicorn (both modes) always runs under the init wrapper, where
//     upstream execs it as PID 1: so run as PID 1 a TERM that comes before
//     the arbiter sets its handlers is dropped by the kernel (a namespace's
//     init gets no signal it has no handler for), and a worker forked just
//     before a TERM loses the one the arbiter relays (gunicorn issue 1910),
//     which makes the arbiter wait its 30 s graceful timeout; podman stop
//     KILLs after 10 s. The wrapper forwards every signal gunicorn uses
//     (HUP, TTIN, USR2, ...) and sends a lost TERM again (runtime.Supervise).
//   - A missing APP_HOME is reported as "ERROR: APP_HOME directory '...' not
//     found." (upstream: bash's cd error), exit 1.
//   - PYTHONPATH: kept as upstream (the old directory is prepended only
//     when PYTHONPATH was already exported).
package run
