package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pys2i/pys2i/internal/envlist"
	"github.com/pys2i/pys2i/internal/execpath"
	"github.com/pys2i/pys2i/internal/reap"
)

// Init must be called first thing in main, and in TestMain, of any binary
// that uses Start or Run. When the process is a sandbox's init (argv[0] is
// the private marker), Init builds the sandbox, runs the command and exits
// with its status; otherwise it returns immediately.
func Init() {
	if len(os.Args) == 0 || os.Args[0] != initMarker {
		return
	}
	// Before anything else: a PID 1 drops signals it has no handler for, and
	// Go's default handler would exit; these are queued for the command.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, forwardedSignals...)
	os.Exit(runInit(sigs))
}

// runInit is the init's life; it returns its exit status.
func runInit(sigs <-chan os.Signal) int {
	// Capability sets, no_new_privs and the seccomp filter are per thread,
	// and the command is forked from the calling thread: confine and the
	// fork must share one.
	runtime.LockOSThread()
	// ExtraFiles arrive without close-on-exec: keep them from the command.
	syscall.CloseOnExec(specFD)
	syscall.CloseOnExec(statusFD)
	status := os.NewFile(statusFD, "status")

	cfg, err := readConfig()
	if err == nil {
		err = setupRoot(cfg)
	}
	if err == nil && cfg.IsolateNetwork {
		err = loopbackUp()
	}
	if err == nil {
		err = confine(cfg)
	}
	var cmd *os.Process
	if err == nil {
		cmd, err = startCommand(cfg)
	}
	if err != nil {
		msg := "sandbox: " + err.Error() + "\n"
		os.Stderr.WriteString(msg)
		status.WriteString(msg)
		return exitSetup
	}
	status.Close() // tells Start that the command is running

	go func() {
		for sig := range sigs {
			_ = cmd.Signal(sig) // fails only once the command is gone
		}
	}()
	return waitChildren(cmd.Pid)
}

func readConfig() (*config, error) {
	f := os.NewFile(specFD, "spec")
	defer f.Close()
	var cfg config
	if err := json.NewDecoder(f).Decode(&cfg); err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	return &cfg, nil
}

// setupRoot builds the sandbox's file system and makes it the root. Every
// mount is made in the init's private mount namespace: they all vanish with
// it, so there is nothing to unmount on any exit path.
func setupRoot(c *config) error {
	// Make sure nothing mounted below propagates back to the host.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if c.Writable {
		// A bind mount, not RootFS itself: pivot_root needs a mount point,
		// and the bind vanishes with this namespace.
		if err := syscall.Mount(c.RootFS, c.Merged, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", c.RootFS, c.Merged, err)
		}
	} else {
		opts := "lowerdir=" + c.RootFS + ",upperdir=" + c.Upper + ",workdir=" + c.Work
		if err := syscall.Mount("overlay", c.Merged, "overlay", 0, opts); err != nil {
			return fmt.Errorf("mount overlay on %s: %w", c.Merged, err)
		}
	}
	if err := mountProc(c.Merged); err != nil {
		return err
	}
	if err := mountDev(c.Merged); err != nil {
		return err
	}
	// Name resolution as on the host, which is natural with the host's network.
	for _, f := range []string{"/etc/hosts", "/etc/resolv.conf"} {
		src := f
		if f == "/etc/hosts" && c.HostsFile != "" {
			src = c.HostsFile // the host's plus extra entries
		}
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
			continue // nothing to share; the image's own file, if any, stays
		}
		if err := bindMount(c.Merged, Mount{Source: src, Target: f, ReadOnly: true}); err != nil {
			return err
		}
	}
	for _, m := range c.Mounts {
		if err := bindMount(c.Merged, m); err != nil {
			return err
		}
	}
	if err := syscall.Sethostname([]byte(c.Hostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	if err := pivotRoot(c.Merged); err != nil {
		return err
	}
	if err := os.Chdir(c.Dir); err != nil {
		return fmt.Errorf("chdir %s: %w", c.Dir, pathErr(err))
	}
	return nil
}

func mountProc(root string) error {
	proc, err := mkdirInRoot(root, "/proc")
	if err != nil {
		return fmt.Errorf("mount proc: %w", err)
	}
	// A fresh proc: it shows only the sandbox's PID namespace.
	if err := syscall.Mount("proc", proc, "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount proc: %w", err)
	}
	return confineProc(proc)
}

// confineProc does to /proc what engines do (the read-only and masked
// paths that Docker and podman give runc): there is no user namespace, so the kernel's
// tunables and triggers in it are the host's, and root with
// CAP_DAC_OVERRIDE could write them (kernel.core_pattern runs a program on
// the host). The command cannot undo these mounts: it has no
// CAP_SYS_ADMIN, and the seccomp filter refuses mount and umount.
func confineProc(proc string) error {
	for _, p := range []string{"asound", "bus", "fs", "irq", "sys", "sysrq-trigger"} {
		if err := readOnly(filepath.Join(proc, p)); err != nil {
			return fmt.Errorf("mount proc: read-only /proc/%s: %w", p, err)
		}
	}
	for _, p := range []string{"acpi", "kcore", "keys", "latency_stats", "timer_list", "timer_stats", "sched_debug", "scsi"} {
		if err := hide(filepath.Join(proc, p)); err != nil {
			return fmt.Errorf("mount proc: mask /proc/%s: %w", p, err)
		}
	}
	return nil
}

// readOnly bind-mounts path read-only on itself; a path this kernel does
// not have is left alone.
func readOnly(path string) error {
	err := syscall.Mount(path, path, "", syscall.MS_BIND|syscall.MS_REC, "")
	if errors.Is(err, syscall.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	flags := uintptr(syscall.MS_BIND | syscall.MS_REMOUNT | syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC)
	return syscall.Mount("", path, "", flags, "")
}

// hide masks path: /dev/null on a file, an empty read-only tmpfs on a
// directory; a path this kernel does not have is left alone.
func hide(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return syscall.Mount("tmpfs", path, "tmpfs", syscall.MS_RDONLY|syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "size=0")
	}
	return syscall.Mount("/dev/null", path, "", syscall.MS_BIND, "")
}

// mountDev mounts a minimal /dev: a tmpfs with a few harmless host devices,
// a private devpts instance and a /dev/shm, much like container runtimes do.
func mountDev(root string) error {
	dev, err := mkdirInRoot(root, "/dev")
	if err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	if err := syscall.Mount("tmpfs", dev, "tmpfs", syscall.MS_NOSUID|syscall.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, name := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		target := filepath.Join(dev, name)
		if err := createFile(target); err != nil {
			return fmt.Errorf("mount /dev/%s: %w", name, err)
		}
		if err := syscall.Mount("/dev/"+name, target, "", syscall.MS_BIND, ""); err != nil {
			return fmt.Errorf("mount /dev/%s: %w", name, err)
		}
	}
	pts := filepath.Join(dev, "pts")
	if err := os.Mkdir(pts, 0o755); err != nil {
		return fmt.Errorf("mount /dev/pts: %w", err)
	}
	// newinstance: the sandbox's ptys are its own, not the host's.
	if err := syscall.Mount("devpts", pts, "devpts", syscall.MS_NOSUID|syscall.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return fmt.Errorf("mount /dev/pts: %w", err)
	}
	shm := filepath.Join(dev, "shm")
	if err := os.Mkdir(shm, 0o755); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	if err := syscall.Mount("shm", shm, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "mode=1777,size=65536k"); err != nil {
		return fmt.Errorf("mount /dev/shm: %w", err)
	}
	links := [][2]string{
		{"pts/ptmx", "ptmx"},
		{"/proc/self/fd", "fd"},
		{"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"},
		{"/proc/self/fd/2", "stderr"},
	}
	for _, l := range links {
		if err := os.Symlink(l[0], filepath.Join(dev, l[1])); err != nil {
			return fmt.Errorf("mount /dev: %w", err)
		}
	}
	return nil
}

// bindMount bind-mounts m.Source (a host path) onto m.Target inside root,
// creating the target as a directory or an empty file to match the source.
func bindMount(root string, m Mount) error {
	step := "bind " + m.Source + " on " + m.Target
	fi, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("%s: %w", step, pathErr(err))
	}
	target, err := inRoot(root, m.Target)
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	if fi.IsDir() {
		err = os.MkdirAll(target, 0o755)
	} else {
		err = createFile(target)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	if err := syscall.Mount(m.Source, target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
		return fmt.Errorf("%s: %w", step, err)
	}
	if m.ReadOnly {
		// A bind mount ignores MS_RDONLY; it takes a remount. Only the top
		// mount becomes read-only, not mounts below it in the source.
		if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("%s: read-only: %w", step, err)
		}
	}
	return nil
}

// pivotRoot makes root the root directory and detaches the host's. With
// pivot_root(".", ".") the old root is stacked on top of the new one, and
// unmounting "." detaches it (see pivot_root(2)): no put_old directory is
// needed, which would otherwise be created in the upper layer.
func pivotRoot(root string) error {
	if err := os.Chdir(root); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := syscall.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := syscall.Unmount(".", syscall.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount old root: %w", err)
	}
	if err := os.Chdir("/"); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	return nil
}

// startCommand starts the command as a child of the init, with the Spec's
// credentials and environment and the init's stdio.
func startCommand(c *config) (*os.Process, error) {
	// One entry per name: the child's getenv then sees the PATH lookPath used.
	env := envlist.Merge(c.Env)
	path, err := lookPath(c.Args[0], env)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Args[0], err)
	}
	p, err := os.StartProcess(path, c.Args, &os.ProcAttr{
		Env:   env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
		Sys: &syscall.SysProcAttr{
			// No supplementary groups: the init's (the caller's) must not leak.
			Credential: &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: []uint32{}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", c.Args[0], err)
	}
	return p, nil
}

// lookPath resolves file as a shell in the sandbox would: against the PATH in
// env, never the host's.
func lookPath(file string, env []string) (string, error) {
	if p, ok := execpath.Find(file, env, ""); ok {
		return p, nil
	}
	return "", fmt.Errorf("executable file not found in PATH %q", execpath.Path(env))
}

// waitChildren waits for every child, as a PID 1 must (orphans are re-parented to
// it), until the command exits, and returns the command's status, with
// 128+N for a death by signal N. Leaving then is fine: when a PID 1 exits
// the kernel kills whatever remains in its namespace.
func waitChildren(pid int) int {
	status, err := reap.Until(pid)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: wait: %v\n", err)
		return exitSetup
	}
	return status
}

// inRoot returns the host path of path inside root, resolving symlinks as if
// root were "/", so that a symlink in the root filesystem (such as
// /etc/resolv.conf -> /run/...) can never lead a mount onto the host.
// Components that do not exist are kept as they are.
func inRoot(root, path string) (string, error) {
	const maxLinks = 40
	resolved := "/"
	rest := path
	links := 0
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(strings.TrimLeft(rest, "/"), "/")
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			continue
		}
		next := filepath.Join(resolved, part)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("%s: %w", path, syscall.ELOOP)
		}
		link, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(link) {
			resolved = "/"
		}
		rest = link + "/" + rest
	}
	return filepath.Join(root, resolved), nil
}

// mkdirInRoot creates path inside root if needed and returns its host path.
func mkdirInRoot(root, path string) (string, error) {
	dir, err := inRoot(root, path)
	if err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// createFile creates an empty file at path, and its parents, if missing.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// loopbackUp brings up lo in the sandbox's own network namespace, as
// container runtimes do for --network none.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}

// confine gives the command an engine's default confinement: only caps in
// its bounding set (so as root, whose exec gets the bounding set, only caps
// in its permitted and effective sets), no inheritable or ambient caps (as
// podman since CVE-2022-27649), no_new_privs, and the seccomp filter. All
// of it is set on this thread, which is locked and forks the command, so
// the command inherits it; the init's other threads keep their powers, and this one keeps its
// effective set, which the fork needs to take the command's uid and gid.
// It comes after the sandbox's own mounts and pivot_root, which the
// filter refuses.
func confine(c *config) error {
	if err := limitCaps(c.Caps); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return installFilter(c.Filter)
}

// limitCaps leaves only keep in this thread's bounding set and clears its
// inheritable and ambient sets.
func limitCaps(keep []int) error {
	var mask uint64
	for _, c := range keep {
		mask |= 1 << uint(c)
	}
	for c := range 64 {
		if mask&(1<<uint(c)) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			// EINVAL: a capability this kernel does not know, which nothing can have.
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("limit capabilities: capget: %w", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("limit capabilities: capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("limit capabilities: clear ambient set: %w", err)
	}
	return nil
}

// installFilter installs the seccomp filter on this thread only (no TSYNC:
// the init's other threads are not the command's).
func installFilter(f []unix.SockFilter) error {
	if len(f) == 0 {
		return errors.New("seccomp: empty filter")
	}
	prog := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return fmt.Errorf("seccomp: install filter: %w", errno)
	}
	return nil
}
