// Package sandbox runs a command inside a root filesystem directory, isolated
// from the host by new mount, PID, UTS and IPC namespaces. The root filesystem
// is the read-only lower layer of an overlay, so it is never modified, unless
// Spec.Writable asks to write to it directly (a container layer that a
// storage driver already mounted, whose changes are the point).
//
// The network namespace is deliberately shared with the host: servers on the
// host's loopback are reachable from inside, and the other way round; unless
// Spec.IsolateNetwork asks for one of its own, with only a loopback.
//
// Inside, the sandbox has a fresh /proc (its tunables and triggers, such as
// /proc/sys, read-only, and the files that leak the host's state, such as
// /proc/kcore and /proc/keys, masked, as engines do), a minimal /dev (null,
// zero, full, random, urandom, tty, a private devpts, /dev/shm), and the
// host's /etc/hosts and /etc/resolv.conf read-only; no /sys. PID 1 is the init,
// which forwards signals to the command and reaps orphans.
//
// The command gets a container engine's default confinement, whatever its
// uid, as podman gives it: podman's default capability set (package
// capability) minus Spec.CapDrop as its bounding set, and so, for UID 0,
// its permitted and effective sets (none for another uid), no inheritable
// or ambient caps; no_new_privs (podman's --security-opt
// no-new-privileges); and Docker's default seccomp profile as an
// allowlist, native ABI only (package syscallfilter). So even as UID 0 it
// cannot mount, make device nodes, create namespaces, load modules or use
// keyrings, bpf, perf or io_uring.
//
// What it is not: there is no user namespace (UID 0 inside is the host's
// UID 0, limited by the above only), no cgroup (no memory, CPU or PID
// limits), no AppArmor or SELinux profile, and the network is the host's
// unless Spec.IsolateNetwork. It keeps a build off the host's files and
// processes; it is not a hardened boundary against a hostile build run as
// root.
//
// The sandbox's init is the current binary re-executed through /proc/self/exe
// with a private argv[0]; that is why every binary that calls Start or Run must
// call Init first thing in main (and in TestMain). Root is required.
//
// Setup errors: if the init fails before the command starts (mounts, chdir,
// command not found...), it writes one line "sandbox: <step>: <error>" to the
// command's stderr, so it shows up in logs, and to a private status pipe, then
// exits with status 125. Start reads the status pipe and returns that line as
// its error, so a command that itself exits 125 is never mistaken for a setup
// failure.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Mount bind-mounts a host path (a directory or a file) onto Target inside the
// root filesystem. Target is created if missing.
type Mount struct {
	Source   string // host path
	Target   string // absolute path inside the sandbox
	ReadOnly bool
}

// HostEntry is one line added to /etc/hosts.
type HostEntry struct {
	Name, IP string
}

// Spec describes one command to run in a sandbox.
type Spec struct {
	// RootFS is the host directory used as the read-only lower layer of the
	// overlay mounted as the sandbox's "/".
	RootFS string
	// Writable makes RootFS itself the sandbox's "/", bind-mounted with no
	// overlay: the command's writes land in RootFS. The mount points the
	// sandbox needs (/proc, /dev, /etc/hosts...) are created in RootFS if
	// missing. StateDir must then be empty.
	Writable bool
	// StateDir, if set, keeps the overlay's upper layer in StateDir/upper (and
	// its workdir in StateDir/work), so writes persist across runs. Only one
	// sandbox may use a StateDir at a time. If empty, a temporary upper layer
	// is used and discarded.
	StateDir string
	// Args is the command; Args[0] is looked up in the PATH given in Env,
	// not the host's.
	Args []string
	// Env is the command's complete environment: nothing of the host's leaks in.
	Env []string
	// Dir is the working directory inside the sandbox, "/" if empty.
	Dir string
	// UID and GID are the command's credentials; supplementary groups are cleared.
	UID, GID uint32
	// Hostname is the sandbox's host name, "sandbox" if empty.
	Hostname string
	// Mounts are bind-mounted in order, after /proc, /dev and /etc/hosts.
	Mounts []Mount
	// IsolateNetwork runs the command in a network namespace of its own,
	// with only a loopback interface (up): nothing outside is reachable.
	IsolateNetwork bool
	// CapDrop are capability numbers (package capability) removed from the
	// command's default set (capability.Default): it cannot have them in
	// any of its sets, even as UID 0. The seccomp filter follows: rules
	// that depend on a capability it no longer has are left out.
	CapDrop []int
	// ExtraHosts are added to the sandbox's /etc/hosts, which is then a
	// generated copy of the host's, not the host's file.
	ExtraHosts []HostEntry
	// TempDir is where the sandbox keeps its own temporary directory
	// (os.TempDir() if empty): a caller that cleans up after a crash puts
	// it in its own.
	TempDir string
	// Stdin, Stdout and Stderr behave as in os/exec.Cmd: nil means /dev/null,
	// and anything but an *os.File is copied through a pipe (so Wait also
	// waits for a non-file Stdin to reach EOF or fail).
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// ExitError reports that the command ran and did not exit with status 0.
type ExitError struct {
	// Code is the command's exit status, or 128+N when it was killed by
	// signal N, as a shell reports it (137 after Kill).
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("sandbox: exit status %d", e.Code) }

// ExitCode returns e.Code; it matches os/exec.ExitError's method of the same name.
func (e *ExitError) ExitCode() int { return e.Code }

// Process is a running sandbox.
type Process struct {
	proc *os.Process   // the sandbox's init (PID 1 inside)
	done chan struct{} // closed once the init exited and temp dirs are removed
	err  error         // the result of Wait, set before done is closed
}

// Wait waits for the command to exit and for the sandbox to be torn down. It
// returns nil, an *ExitError carrying the command's status, or another error.
// Temporary directories are removed whatever the outcome. Wait may be called
// more than once, from any goroutine.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Kill kills the whole sandbox: SIGKILL to its PID 1, after which the kernel
// kills every other process in the namespace. Killing a sandbox that already
// exited is not an error.
func (p *Process) Kill() error {
	if err := p.proc.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("sandbox: kill: %w", err)
	}
	return nil
}

// Run starts the sandbox and waits for it. When ctx is done first, the sandbox
// is killed and Run returns the context's error (wrapped).
func Run(ctx context.Context, spec Spec) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	p, err := Start(spec)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
	}
	select {
	case <-p.done: // finished just as ctx ended: the real result wins
		return p.err
	default:
	}
	if err := p.Kill(); err != nil {
		return err
	}
	<-p.done
	return fmt.Errorf("sandbox: %w", context.Cause(ctx))
}
