// Package runtime launches the program chosen by package run, optionally as a
// well-behaved PID 1 that forwards signals and reaps zombies.
//
// Execute prints the plan's messages, runs its steps (Django's migrate),
// then replaces run with the program (syscall.Exec: no extra process), or,
// when the plan asks for the init wrapper (ENABLE_INIT_WRAPPER for app.sh,
// app.py and runserver, as upstream; gunicorn always, see package run),
// stays as the program's parent: Supervise forwards TERM, INT (as TERM, like
// upstream's init-wrapper), HUP, QUIT, USR1, USR2, WINCH, TTIN and TTOU,
// sends TERM again every second to the processes below the program until it
// exits once a stop began (a forking server's worker can lose the TERM its
// parent relays), reaps every orphan (as PID 1, or as a child subreaper
// elsewhere) and exits with the child's status, 128+N when it was killed by
// signal N. This replaces upstream's sh init-wrapper.
//
// SetupUser is upstream's generate_container_user for arbitrary uids
// (OpenShift): $APP_ROOT/etc/passwd plus nss_wrapper's variables where
// libnss_wrapper.so exists, else an entry appended to a writable /etc/passwd,
// so that whoami and getpwuid work in the app. The passwd file and its
// directory are kept group-writable (the next start may be another uid of
// group 0, upstream issue 298). It also covers uid 1001 when the image's
// /etc/passwd has no entry for it (the upstream images always have one).
package runtime
