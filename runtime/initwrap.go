package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pys2i/pys2i/internal/reap"
)

// ForwardedSignals are relayed to the child by Supervise. SIGINT is sent on
// as SIGTERM, as upstream's init-wrapper does (trap 'kill -s TERM $PID'
// TERM INT); the others, which gunicorn-style servers use for reloads,
// worker counts and graceful stops, are sent on as they are.
var ForwardedSignals = []os.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1,
	syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGTTIN, syscall.SIGTTOU,
}

const prSetChildSubreaper = 36

// ResendEvery is how often, once a TERM (or INT) has been forwarded and
// until the child exits, the wrapper sends TERM again to the processes
// below the child (Stragglers).
const ResendEvery = time.Second

// Supervise is the init wrapper (upstream's s2i/bin/init-wrapper, kept in
// this process rather than another program): it starts path with argv and
// env as a child, forwards ForwardedSignals to it, reaps every process that
// ends up as its child (as PID 1 every orphan does; elsewhere it makes
// itself a child subreaper so orphans of its subtree come to it too), and
// returns the child's exit status, or 128+N when the child was killed by
// signal N. Remaining descendants are left as they are: as a container's
// PID 1, its exit ends them.
//
// A stop must not depend on the child passing the TERM on in time. A
// forking server relays it to its workers, and a worker signalled between
// its fork and the setting of its own handlers loses it: gunicorn's worker
// then runs the arbiter's inherited handler, which queues the signal in its
// copy of the arbiter and returns (gunicorn issue 1910), and the arbiter
// waits its graceful timeout (30 s) for that worker, past podman's 10 s.
// So after a TERM or INT the wrapper sends TERM again every ResendEvery to
// the processes below the child until the child exits (not to the child:
// it cannot have lost the TERM, see Stragglers). A repeated TERM is a no-op
// for a process already stopping (gunicorn's workers set a flag, its
// arbiter is past reading its queue); the usual "a second signal stops
// harder" is a second Ctrl-C, INT, which is never repeated, and a process
// that did stop harder on TERM would only end sooner, which is what a
// container stop asks (podman KILLs at its timeout anyway). It needs /proc
// to be of the wrapper's pid namespace, as in a container; with another one
// it is not done.
func Supervise(path string, argv, env []string) int {
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, ForwardedSignals...)
	defer signal.Stop(sigs)
	if os.Getpid() != 1 {
		_ = setSubreaper()
	}
	proc, err := os.StartProcess(path, argv, &os.ProcAttr{
		Env:   env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "run: %v\n", err)
		if errors.Is(err, syscall.ENOENT) {
			return 127
		}
		return 126
	}
	pid := proc.Pid
	done := make(chan struct{})
	defer close(done)
	go func() {
		var resend <-chan time.Time
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				s := sig.(syscall.Signal)
				if s == syscall.SIGINT {
					s = syscall.SIGTERM
				}
				_ = syscall.Kill(pid, s)
				if s == syscall.SIGTERM && resend == nil {
					t := time.NewTicker(ResendEvery)
					defer t.Stop()
					resend = t.C
				}
			case <-resend:
				termStragglers(pid)
			}
		}
	}()
	status, err := reap.Until(pid)
	if err != nil {
		fmt.Fprintf(os.Stderr, "run: wait: %v\n", err)
		return 1
	}
	return status
}

// termStragglers sends TERM to the processes below child (Stragglers).
func termStragglers(child int) {
	parents, self, err := ProcParents("/proc")
	if err != nil || self != os.Getpid() {
		return // no /proc, or another pid namespace's: its pids are not ours
	}
	for _, p := range Stragglers(parents, self, child) {
		_ = syscall.Kill(p, syscall.SIGTERM)
	}
}

func setSubreaper() error {
	_, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
