package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// The wrapper as a subreaper (not PID 1) and as the PID 1 of a new pid
// namespace: the same behaviour is required of both.
var wrapperModes = []struct {
	name  string
	flags uintptr
}{
	{"subreaper", 0},
	{"pid1", syscall.CLONE_NEWPID},
}

func startWrapper(t *testing.T, flags uintptr, script string) *exec.Cmd {
	t.Helper()
	cmd := helper(t, "supervise", "/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flags}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func exitStatus(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err == nil {
		return 0
	}
	return -1
}

func TestSuperviseSignals(t *testing.T) {
	// A child that reports which signal it got through its exit status.
	const traps = `trap 'exit 40' TERM; trap 'exit 41' INT; trap 'exit 42' HUP; trap 'exit 43' QUIT
trap 'exit 44' USR1; trap 'exit 45' USR2; trap 'exit 46' WINCH; trap 'exit 47' TTIN; trap 'exit 48' TTOU
touch "$READY"; while :; do sleep 0.02; done`
	tests := []struct {
		sig  syscall.Signal
		want int
	}{
		{syscall.SIGTERM, 40},
		{syscall.SIGINT, 40}, // sent on as TERM, as upstream's init-wrapper does
		{syscall.SIGHUP, 42},
		{syscall.SIGQUIT, 43},
		{syscall.SIGUSR1, 44},
		{syscall.SIGUSR2, 45},
		{syscall.SIGWINCH, 46},
		{syscall.SIGTTIN, 47},
		{syscall.SIGTTOU, 48},
	}
	for _, mode := range wrapperModes {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/%v", mode.name, tt.sig), func(t *testing.T) {
				ready := tempFile(t, "ready")
				cmd := helper(t, "supervise", "/bin/sh", "-c", traps)
				cmd.Env = append(cmd.Env, "READY="+ready)
				cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: mode.flags}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				defer cmd.Process.Kill()
				waitFile(t, ready, 5*time.Second)
				start := time.Now()
				if err := cmd.Process.Signal(tt.sig); err != nil {
					t.Fatal(err)
				}
				got := exitStatus(cmd.Wait())
				if got != tt.want {
					t.Errorf("exit status %d, want %d", got, tt.want)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("took %v to end", d)
				}
			})
		}
	}
}

func TestSuperviseExitStatus(t *testing.T) {
	tests := []struct {
		name, script string
		want         int
	}{
		{"zero", "exit 0", 0},
		{"seven", "exit 7", 7},
		{"killed by KILL", "kill -KILL $$", 128 + 9},
		{"killed by TERM", "trap - TERM; kill -TERM $$", 128 + 15},
		{"missing program", "exec /nonexistent", 127},
	}
	for _, mode := range wrapperModes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				cmd := startWrapper(t, mode.flags, tt.script)
				if got := exitStatus(cmd.Wait()); got != tt.want {
					t.Errorf("exit status %d, want %d", got, tt.want)
				}
			})
		}
	}
}

// A default-action TERM still ends a child that does not trap it, with 143.
func TestSuperviseTermUntrapped(t *testing.T) {
	for _, mode := range wrapperModes {
		t.Run(mode.name, func(t *testing.T) {
			ready := tempFile(t, "ready")
			cmd := helper(t, "supervise", "/bin/sh", "-c", `touch "$READY"; exec sleep 30`)
			cmd.Env = append(cmd.Env, "READY="+ready)
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: mode.flags}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			waitFile(t, ready, 5*time.Second)
			time.Sleep(50 * time.Millisecond) // let the exec of sleep happen
			start := time.Now()
			cmd.Process.Signal(syscall.SIGTERM)
			if got := exitStatus(cmd.Wait()); got != 143 {
				t.Errorf("exit status %d, want 143", got)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// An orphaned grandchild is re-parented to the wrapper and reaped when it
// exits: no zombie stays while the app runs on.
func TestSuperviseReapsOrphans(t *testing.T) {
	for _, mode := range wrapperModes {
		t.Run(mode.name, func(t *testing.T) {
			ready := tempFile(t, "ready")
			// The middle shell exits at once, orphaning "sleep 0.3"; the
			// app itself lives on for 1.5 s.
			cmd := helper(t, "supervise", "/bin/sh", "-c", `sh -c 'sleep 0.3 & exit 0'; touch "$READY"; sleep 1.5; exit 3`)
			cmd.Env = append(cmd.Env, "READY="+ready)
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: mode.flags}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			waitFile(t, ready, 5*time.Second)
			wpid := cmd.Process.Pid
			if n := len(children(wpid)); n < 2 {
				t.Errorf("the orphan was not re-parented to the wrapper: children %v", children(wpid))
			}
			time.Sleep(700 * time.Millisecond) // the orphan has exited by now
			kids := children(wpid)
			for pid, st := range kids {
				if st == 'Z' {
					t.Errorf("zombie %d left under the wrapper (children %v)", pid, kids)
				}
			}
			if len(kids) != 1 {
				t.Errorf("want only the app left under the wrapper, got %v", kids)
			}
			if got := exitStatus(cmd.Wait()); got != 3 {
				t.Errorf("exit status %d, want 3", got)
			}
		})
	}
}

// A grandchild that loses the first TERM its parent relays, as a gunicorn
// worker does when the arbiter's TERM comes between its fork and its own
// handlers (gunicorn issue 1910): the first TERM only records the loss (the
// inherited handler), a later one ends it. The child passes the TERM on
// once and waits for the grandchild, as the arbiter does. The wrapper must
// send TERM again to the processes below the child so that the stop ends.
func TestSuperviseResendsLostTerm(t *testing.T) {
	const script = `sh -c 'trap "trap \"exit 0\" TERM; touch \"\$LOST\"" TERM; touch "$READY"; while :; do sleep 0.05; done' &
gc=$!
trap 'kill -TERM $gc; wait $gc; exit 0' TERM
while :; do sleep 0.05; done`
	// As PID 1 with a /proc of its own pid namespace, as in a container
	// (only there: the helper mounts it, which needs the new mount
	// namespace).
	modes := []struct {
		name  string
		flags uintptr
		env   []string
	}{
		{"subreaper", 0, nil},
		{"pid1", syscall.CLONE_NEWPID | syscall.CLONE_NEWNS, []string{"RUNTIME_TEST_OWN_PROC=1"}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			ready, lost := tempFile(t, "ready"), tempFile(t, "lost")
			cmd := helper(t, "supervise", "/bin/sh", "-c", script)
			cmd.Env = append(append(cmd.Env, "READY="+ready, "LOST="+lost), mode.env...)
			// Its own process group: on failure the shells left behind
			// (a subreaper's orphans) are killed with it.
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: mode.flags, Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			waitFile(t, ready, 5*time.Second)
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			ended := make(chan error, 1)
			go func() { ended <- cmd.Wait() }()
			// Not a time bound: without the resend the wrapper never ends.
			select {
			case err := <-ended:
				if got := exitStatus(err); got != 0 {
					t.Errorf("exit status %d, want 0 (the child's, once the grandchild ended)", got)
				}
			case <-time.After(20 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-ended
				t.Fatal("the stop did not end in 20 s: the grandchild's lost TERM was never sent again")
			}
			if _, err := os.Stat(lost); err != nil {
				t.Errorf("the grandchild did not lose the first TERM (%v): the test proves nothing", err)
			}
		})
	}
}
