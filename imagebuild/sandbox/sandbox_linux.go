package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pys2i/pys2i/imagebuild/sandbox/capability"
	"github.com/pys2i/pys2i/imagebuild/sandbox/syscallfilter"
)

const (
	// initMarker is argv[0] of the re-executed binary: it tells Init that it
	// is the sandbox's init.
	initMarker = "pys2i-sandbox-init"
	// exitSetup is the init's exit status when setup failed (see package doc).
	exitSetup = 125
	// File descriptors of the init, from exec.Cmd.ExtraFiles.
	specFD   = 3 // the config, as JSON, until EOF
	statusFD = 4 // setup error line, if any; closed once the command started
)

// forwardedSignals are relayed by the init to the command. Any other signal
// sent to a PID 1 from outside is dropped by the kernel unless the init
// handles it, so Signal refuses the others rather than silently losing them.
var forwardedSignals = []os.Signal{
	syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH,
}

// config is what the parent sends to the init: the Spec without its I/O, with
// defaults applied and host paths absolute, plus the overlay's directories.
type config struct {
	RootFS, Upper, Work, Merged string
	Writable                    bool // RootFS is bound on Merged; no Upper, Work
	Args, Env                   []string
	Dir                         string
	UID, GID                    uint32
	Hostname                    string
	Mounts                      []Mount
	IsolateNetwork              bool              // in a new network namespace: bring lo up
	Caps                        []int             // the command's capability set, by number
	Filter                      []unix.SockFilter // the command's seccomp filter
	HostsFile                   string            // bound on /etc/hosts instead of the host's, if set
}

// Start starts spec's command in a new sandbox. It returns once the command
// has started, or with the setup error if the sandbox could not be built.
func Start(spec Spec) (*Process, error) {
	cfg, cleanup, err := prepare(spec)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sandbox: encode spec: %w", err), cleanup())
	}
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("sandbox: pipe: %w", err), cleanup())
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		specR.Close()
		specW.Close()
		return nil, errors.Join(fmt.Errorf("sandbox: pipe: %w", err), cleanup())
	}
	l := &launch{
		cmd:   initCmd(spec, specR, statusW),
		data:  data,
		specR: specR, specW: specW, statusR: statusR, statusW: statusW,
		cleanup: cleanup,
	}
	p := &Process{done: make(chan struct{})}
	started := make(chan error, 1)
	go l.run(p, started)
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// prepare makes the sandbox's config and its temp dir (removed by cleanup).
func prepare(spec Spec) (config, func() error, error) {
	cfg, rootInfo, err := newConfig(spec)
	if err != nil {
		return cfg, nil, err
	}
	tmp, err := os.MkdirTemp(spec.TempDir, "pys2i-sandbox-")
	if err != nil {
		return cfg, nil, fmt.Errorf("sandbox: create temp dir: %w", err)
	}
	cleanup := func() error { return removeTemp(tmp) }
	if err := makeDirs(&cfg, rootInfo, spec.StateDir, tmp); err != nil {
		return cfg, nil, errors.Join(err, cleanup())
	}
	if len(spec.ExtraHosts) > 0 {
		if cfg.HostsFile, err = writeHosts(tmp, spec.ExtraHosts); err != nil {
			return cfg, nil, errors.Join(err, cleanup())
		}
	}
	return cfg, cleanup, nil
}

// initCmd is the sandbox's init: this binary re-executed in new
// namespaces, reading its config from specR and reporting on statusW.
func initCmd(spec Spec, specR, statusW *os.File) *exec.Cmd {
	cloneflags := uintptr(syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC)
	if spec.IsolateNetwork {
		cloneflags |= syscall.CLONE_NEWNET
	}
	return &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{initMarker},
		Env:        []string{}, // the init needs none; the command gets cfg.Env
		Stdin:      spec.Stdin,
		Stdout:     spec.Stdout,
		Stderr:     spec.Stderr,
		ExtraFiles: []*os.File{specR, statusW},
		SysProcAttr: &syscall.SysProcAttr{
			// No CLONE_NEWNET unless asked: the sandbox uses the host's network.
			Cloneflags: cloneflags,
			// If this process dies, the init dies, and with it the sandbox.
			Pdeathsig: syscall.SIGKILL,
		},
	}
}

// launch is one start of the init, with the pipes it talks over.
type launch struct {
	cmd                            *exec.Cmd
	data                           []byte // the config for the init
	specR, specW, statusR, statusW *os.File
	cleanup                        func() error
}

// run starts the init, sends its config, reports on started whether the
// command started, then waits for the sandbox to end. Pdeathsig fires when
// the thread that forked the child exits, not the process: this goroutine
// stays on its thread until the child is gone.
func (l *launch) run(p *Process, started chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	err := l.cmd.Start()
	l.specR.Close() // the init has its own copies
	l.statusW.Close()
	if err != nil {
		l.specW.Close()
		l.statusR.Close()
		if errors.Is(err, syscall.EPERM) {
			err = fmt.Errorf("%w (creating namespaces requires root)", err)
		}
		started <- errors.Join(fmt.Errorf("sandbox: start init: %w", err), l.cleanup())
		return
	}
	p.proc = l.cmd.Process
	if setupErr := l.handshake(); setupErr != nil {
		_ = l.cmd.Process.Kill() // already exiting unless the pipes broke
		_ = l.cmd.Wait()
		started <- errors.Join(setupErr, l.cleanup())
		return
	}
	started <- nil

	p.err = errors.Join(exitError(l.cmd.Wait()), l.cleanup())
	close(p.done)
}

// handshake sends the config and reads the init's status. The init reads
// the config, then either writes a setup error and exits, or starts the
// command and closes the status pipe (which the command never inherits):
// either way the read ends.
func (l *launch) handshake() error {
	_, werr := l.specW.Write(l.data)
	l.specW.Close()
	msg, rerr := io.ReadAll(io.LimitReader(l.statusR, 4096))
	l.statusR.Close()
	switch {
	case len(msg) > 0:
		line, _, _ := strings.Cut(string(msg), "\n")
		return errors.New(line)
	case werr != nil:
		return fmt.Errorf("sandbox: send spec to init: %w", werr)
	case rerr != nil:
		return fmt.Errorf("sandbox: read init status: %w", rerr)
	}
	return nil
}

// Signal sends sig to the command through the init. SIGKILL kills the whole
// sandbox, as Kill does; signals that the init does not forward are refused.
func (p *Process) Signal(sig os.Signal) error {
	if sig == os.Kill {
		return p.Kill()
	}
	if !slices.Contains(forwardedSignals, sig) {
		return fmt.Errorf("sandbox: signal %v is not forwarded to the command", sig)
	}
	if err := p.proc.Signal(sig); err != nil {
		return fmt.Errorf("sandbox: signal %v: %w", sig, err)
	}
	return nil
}

// newConfig validates spec, so that obvious mistakes are reported before
// anything starts, and returns the init's config and RootFS's FileInfo.
func newConfig(spec Spec) (config, fs.FileInfo, error) {
	if len(spec.Args) == 0 {
		return config{}, nil, errors.New("sandbox: no command: Args is empty")
	}
	if spec.RootFS == "" {
		return config{}, nil, errors.New("sandbox: no root filesystem: RootFS is empty")
	}
	root, err := filepath.Abs(spec.RootFS)
	if err != nil {
		return config{}, nil, fmt.Errorf("sandbox: root filesystem %s: %w", spec.RootFS, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return config{}, nil, fmt.Errorf("sandbox: root filesystem %s: %w", root, pathErr(err))
	}
	if !fi.IsDir() {
		return config{}, nil, fmt.Errorf("sandbox: root filesystem %s: %w", root, syscall.ENOTDIR)
	}
	if spec.Writable && spec.StateDir != "" {
		return config{}, nil, errors.New("sandbox: Writable and StateDir exclude each other: a writable root keeps its own changes")
	}
	cfg := config{
		RootFS:         root,
		Writable:       spec.Writable,
		Args:           spec.Args,
		Env:            spec.Env,
		Dir:            spec.Dir,
		UID:            spec.UID,
		GID:            spec.GID,
		Hostname:       spec.Hostname,
		IsolateNetwork: spec.IsolateNetwork,
	}
	if err := confinement(&cfg, spec.CapDrop); err != nil {
		return config{}, nil, err
	}
	for _, h := range spec.ExtraHosts {
		if h.Name == "" || strings.ContainsAny(h.Name, " \t\n#") || net.ParseIP(h.IP) == nil {
			return config{}, nil, fmt.Errorf("sandbox: invalid hosts entry %q %q", h.Name, h.IP)
		}
	}
	if cfg.Env == nil {
		cfg.Env = []string{} // nil would mean "inherit" to os.StartProcess
	}
	if cfg.Dir == "" {
		cfg.Dir = "/"
	} else if !filepath.IsAbs(cfg.Dir) {
		return config{}, nil, fmt.Errorf("sandbox: working directory %q is not absolute", cfg.Dir)
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "sandbox"
	}
	for _, m := range spec.Mounts {
		if !filepath.IsAbs(m.Target) {
			return config{}, nil, fmt.Errorf("sandbox: mount target %q is not absolute", m.Target)
		}
		src, err := filepath.Abs(m.Source)
		if err != nil {
			return config{}, nil, fmt.Errorf("sandbox: mount source %s: %w", m.Source, err)
		}
		if _, err := os.Stat(src); err != nil {
			return config{}, nil, fmt.Errorf("sandbox: mount source %s: %w", src, pathErr(err))
		}
		cfg.Mounts = append(cfg.Mounts, Mount{Source: src, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return cfg, fi, nil
}

// confinement puts the command's capability set (the engines' default
// minus drop) and its seccomp filter, made for that set, into cfg.
func confinement(cfg *config, drop []int) error {
	for _, c := range drop {
		if c < 0 || c > 63 {
			return fmt.Errorf("sandbox: capability %d out of range", c)
		}
	}
	caps, err := capability.Keep(capability.Default(), drop)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	filter, err := syscallfilter.Default(capability.Names(caps))
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	cfg.Caps, cfg.Filter = caps, filter
	return nil
}

// makeDirs creates the overlay's mount point, upper and work directories.
func makeDirs(cfg *config, rootInfo fs.FileInfo, stateDir, tmp string) error {
	cfg.Merged = filepath.Join(tmp, "merged")
	if err := os.Mkdir(cfg.Merged, 0o755); err != nil {
		return fmt.Errorf("sandbox: create temp dir: %w", err)
	}
	if cfg.Writable {
		return nil // no overlay: RootFS is bound as it is
	}
	base := tmp
	if stateDir != "" {
		abs, err := filepath.Abs(stateDir)
		if err != nil {
			return fmt.Errorf("sandbox: state dir %s: %w", stateDir, err)
		}
		base = abs
	}
	cfg.Upper = filepath.Join(base, "upper")
	cfg.Work = filepath.Join(base, "work")
	for _, dir := range []string{cfg.RootFS, cfg.Upper, cfg.Work} {
		// Overlay options are comma-separated, and lowerdir colon-separated.
		if strings.ContainsAny(dir, `,:\`) {
			return fmt.Errorf("sandbox: %s: overlay cannot use a path containing ',', ':' or '\\'", dir)
		}
	}
	for _, dir := range []string{cfg.Upper, cfg.Work} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("sandbox: state dir: %w", err)
		}
	}
	// The overlay's "/" takes its owner and mode from the upper directory:
	// mirror the root filesystem's, or a 0700 upper would lock non-root
	// commands out of "/".
	if st, ok := rootInfo.Sys().(*syscall.Stat_t); ok {
		if err := os.Chown(cfg.Upper, int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("sandbox: state dir: %w", err)
		}
	}
	mode := rootInfo.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	if err := os.Chmod(cfg.Upper, mode); err != nil {
		return fmt.Errorf("sandbox: state dir: %w", err)
	}
	return nil
}

// removeTemp removes a run's temp dir. The mount point is removed with Remove,
// not RemoveAll: it is empty unless the overlay were somehow still mounted,
// and then RemoveAll would delete files through the mount.
func removeTemp(tmp string) error {
	if err := os.Remove(filepath.Join(tmp, "merged")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sandbox: remove temp dir: %w", err)
	}
	// The overlay's work dir holds a mode 000 "work" dir: fine for root.
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("sandbox: remove temp dir: %w", err)
	}
	return nil
}

// exitError turns the init's exit into the command's: the init exits with the
// command's status, and dies by signal only when the sandbox was killed.
func exitError(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("sandbox: wait: %w", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return &ExitError{Code: 128 + int(ws.Signal())}
	}
	return &ExitError{Code: ee.ExitCode()}
}

// pathErr drops the *fs.PathError wrapper, whose "stat /x" would repeat the
// path already in our message, keeping the errno for errors.Is.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// writeHosts writes the sandbox's /etc/hosts into tmp: the host's with
// extra appended.
func writeHosts(tmp string, extra []HostEntry) (string, error) {
	base, err := os.ReadFile("/etc/hosts")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("sandbox: read /etc/hosts: %w", err)
	}
	p := filepath.Join(tmp, "hosts")
	if err := os.WriteFile(p, hostsFile(base, extra), 0o644); err != nil {
		return "", fmt.Errorf("sandbox: write hosts file: %w", err)
	}
	return p, nil
}
