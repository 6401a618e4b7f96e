//go:build linux

package sandbox_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
)

// podman's default capabilities: CHOWN 0, DAC_OVERRIDE 1, FOWNER 3,
// FSETID 4, KILL 5, SETGID 6, SETUID 7, SETPCAP 8, NET_BIND_SERVICE 10,
// SYS_CHROOT 18, SETFCAP 31.
const defaultCaps uint64 = 1<<0 | 1<<1 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<10 | 1<<18 | 1<<31

// statusField reads a decimal field of /proc/self/status output.
func statusField(t *testing.T, status, field string) string {
	t.Helper()
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in %q", field, status)
	return ""
}

// Every command gets an engine's confinement, as podman 4.3 gives it on
// this machine: podman's default capability set as the bounding set, and
// as root's permitted and effective sets (none for a non-root user), no
// inheritable or ambient caps; no_new_privs and a seccomp filter; CapDrop
// takes more away.
func TestConfinementSets(t *testing.T) {
	const chown, fowner = 0, 3
	tests := []struct {
		name               string
		uid                uint32
		drop               []int
		bnd, prm, eff, inh uint64
	}{
		{name: "root", uid: 0, bnd: defaultCaps, prm: defaultCaps, eff: defaultCaps},
		{name: "non-root", uid: 1000, bnd: defaultCaps},
		{
			name: "root with CapDrop", uid: 0, drop: []int{chown, fowner, 21},
			bnd: defaultCaps &^ (1<<chown | 1<<fowner), prm: defaultCaps &^ (1<<chown | 1<<fowner),
			eff: defaultCaps &^ (1<<chown | 1<<fowner),
		},
		{name: "root with CapDrop ALL", uid: 0, drop: allCaps()},
	}
	root := rootFS(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := run(t, sandbox.Spec{
				RootFS: root, Args: []string{"cat", "/proc/self/status"}, Env: []string{"PATH=/bin"},
				UID: tt.uid, GID: tt.uid, CapDrop: tt.drop,
			})
			if err != nil {
				t.Fatalf("Run: %v\nstderr: %s", err, errOut)
			}
			for _, f := range []struct {
				name string
				want uint64
			}{{"CapBnd", tt.bnd}, {"CapPrm", tt.prm}, {"CapEff", tt.eff}, {"CapInh", tt.inh}, {"CapAmb", 0}} {
				if got := capBits(t, out, f.name); got != f.want {
					t.Errorf("%s = %016x, want %016x", f.name, got, f.want)
				}
			}
			if got := statusField(t, out, "NoNewPrivs"); got != "1" {
				t.Errorf("NoNewPrivs = %s, want 1", got)
			}
			if got := statusField(t, out, "Seccomp"); got != "2" {
				t.Errorf("Seccomp = %s, want 2 (a filter)", got)
			}
		})
	}
}

func allCaps() []int {
	var all []int
	for c := range 41 {
		all = append(all, c)
	}
	return all
}

// Root in the sandbox cannot do what an engine's confinement refuses
// (mount, mknod of devices, new namespaces: the capabilities and the
// seccomp filter each), and can still do what a build needs as root.
func TestConfinementRefuses(t *testing.T) {
	script := `try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name: done"; else echo "$name: refused"; fi; }
mkdir -p /tmp/p /tmp/s
try "mount proc" mount -t proc proc /tmp/p
try "mount sysfs" mount -t sysfs sysfs /tmp/s
try "mount tmpfs" mount -t tmpfs tmpfs /tmp/s
try "bind mount" mount --bind /bin /tmp/s
try "umount /proc" umount -l /proc
try "mknod block" mknod /tmp/b b 8 0
try "mknod char" mknod /tmp/c c 1 3
try "unshare mount namespace" unshare -m true
try "unshare user namespace" unshare -U true
try "chown" chown 1:1 /tmp/p
try "chroot" chroot / true
ls /dev
`
	out, errOut, err := run(t, sandbox.Spec{RootFS: rootFS(t), Args: sh(script), Env: []string{"PATH=/bin"}})
	if err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, errOut)
	}
	want := `mount proc: refused
mount sysfs: refused
mount tmpfs: refused
bind mount: refused
umount /proc: refused
mknod block: refused
mknod char: refused
unshare mount namespace: refused
unshare user namespace: refused
chown: done
chroot: done
fd
full
null
ptmx
pts
random
shm
stderr
stdin
stdout
tty
urandom
zero
`
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
}

// /proc is confined as engines confine it: the kernel's tunables and
// triggers read-only, files that leak the host's state masked. Without
// that, root with CAP_DAC_OVERRIDE could write the host's sysctls (such as
// kernel.core_pattern, a way out) through the sandbox's own /proc.
func TestProcConfined(t *testing.T) {
	// kernel.hostname is the sandbox's own (UTS namespace): a write that
	// would change nothing on the host.
	script := "echo box > /proc/sys/kernel/hostname 2>/dev/null && echo 'sysctl: written' || echo 'sysctl: refused'\n"
	want := "sysctl: refused\n"
	for _, p := range []string{"kcore", "keys", "timer_list", "timer_stats", "latency_stats", "sched_debug"} {
		if _, err := os.Stat("/proc/" + p); err == nil {
			script += fmt.Sprintf("echo \"%[1]s: $(head -c 1 /proc/%[1]s 2>/dev/null | wc -c) bytes\"\n", p)
			want += p + ": 0 bytes\n"
		}
	}
	for _, p := range []string{"acpi", "scsi"} {
		if _, err := os.Stat("/proc/" + p); err == nil {
			script += fmt.Sprintf("echo \"%[1]s: $(ls -A /proc/%[1]s | wc -l) entries\"\n", p)
			want += p + ": 0 entries\n"
		}
	}
	script += "echo \"cpuinfo: $(head -c 1 /proc/cpuinfo | wc -c) bytes\"\ncat /proc/self/mountinfo\n"
	want += "cpuinfo: 1 bytes\n"
	out, errOut, err := run(t, sandbox.Spec{RootFS: rootFS(t), Args: sh(script), Env: []string{"PATH=/bin"}})
	if err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, errOut)
	}
	if !strings.HasPrefix(out, want) {
		t.Errorf("stdout:\n%s\nwant first:\n%s", out, want)
	}
	// The mount options (field 6) of each read-only path this kernel has.
	opts := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 5 {
			opts[f[4]] = f[5]
		}
	}
	for _, p := range []string{"sys", "sysrq-trigger", "irq", "bus", "fs", "asound"} {
		if _, err := os.Stat("/proc/" + p); err != nil {
			continue
		}
		if o := opts["/proc/"+p]; !strings.HasPrefix(o, "ro,") {
			t.Errorf("/proc/%s mounted %q, want read-only", p, o)
		}
	}
}
