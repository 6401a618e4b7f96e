package integration

import (
	"strings"
	"testing"
)

// buildConfineAssemble tries, as root, what an engine's confinement
// refuses, and records the results in /opt/app-root/report.txt (in the
// image); then it runs the builder's assemble (a venv, pip install from
// the index), which must still work. The Python part calls the syscalls
// directly, so that each answer is the kernel's (EPERM from the seccomp
// filter or a missing capability), whatever the arguments.
const buildConfineAssemble = `#!/bin/sh
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name: done"; else echo "$name: refused"; fi; }
{
mkdir -p /tmp/p
try "mount proc" mount -t proc proc /tmp/p
try "mount sysfs" mount -t sysfs sysfs /tmp/p
try "mount tmpfs" mount -t tmpfs tmpfs /tmp/p
try "mknod block" mknod /tmp/blk b 8 0
try "mknod char" mknod /tmp/chr c 1 3
try "unshare mount" unshare -m true
try "unshare user" unshare -U true
try "sysctl write" sh -c 'echo box > /proc/sys/kernel/hostname'
grep -E '^(Cap(Bnd|Prm|Eff|Inh|Amb)|NoNewPrivs|Seccomp):' /proc/self/status | tr '\t' ' '
python3 - <<'PY'
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
calls = [
    ("sys mount", 165, 0), ("sys umount2", 166, 0), ("sys pivot_root", 155, 0),
    ("sys unshare newuser", 272, 0x10000000), ("sys setns", 308, 0), ("sys keyctl", 250, 0),
    ("sys add_key", 248, 0), ("sys request_key", 249, 0), ("sys bpf", 321, 0),
    ("sys perf_event_open", 298, 0), ("sys kexec_load", 246, 0), ("sys init_module", 175, 0),
    ("sys finit_module", 313, 0), ("sys delete_module", 176, 0), ("sys reboot", 169, 0),
    ("sys swapon", 167, 0), ("sys acct", 163, 0), ("sys settimeofday", 164, 0),
    ("sys clock_settime", 227, 0), ("sys open_by_handle_at", 304, 0), ("sys userfaultfd", 323, 0),
    ("sys iopl", 172, 3), ("sys ioperm", 173, 0), ("sys io_uring_setup", 425, 1),
    ("sys personality addr_no_randomize", 135, 0x0040000), ("sys x32 getpid", 0x40000000 | 39, 0),
]
for name, nr, arg in calls:
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), ctypes.c_long(arg), ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0))
    e = ctypes.get_errno()
    print("%s: %s" % (name, errno.errorcode.get(e, "allowed") if r == -1 else "allowed"))
PY
} > /opt/app-root/report.txt 2>&1
cat /opt/app-root/report.txt
exec /usr/libexec/s2i/assemble
`

// Assemble run as root (--assemble-user 0) has an engine's confinement:
// podman's default capabilities, no_new_privs, the default seccomp
// profile; it cannot mount, make devices, make namespaces, write sysctls
// or make the syscalls the profile refuses. A normal build still works in
// it: a venv, pip install from the index, and the image serves with
// gunicorn. (TestBuildRuntimeImageModWSGI compiles mod_wsgi in it.)
func TestBuildConfinement(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildFlaskApp(t, "confined", map[string]string{".s2i/bin/assemble": buildConfineAssemble})
	tag := "localhost/pys2i-test/build-confine:latest"
	buildRmi(t, tag)
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL, "--assemble-user", "0")
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	buildNoLeftovers(t, before, r)
	if !strings.Contains(r.stderr, "as 0:0") {
		t.Errorf("assemble did not run as root:\n%s", r.stderr)
	}
	rep := buildReport(t, tag)
	t.Logf("assemble saw: %v", rep)
	want := map[string]string{
		// podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID
		// SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP.
		"CapBnd": "00000000800405fb", "CapPrm": "00000000800405fb", "CapEff": "00000000800405fb",
		"CapInh": "0000000000000000", "CapAmb": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2",
		"sys x32 getpid": "ENOSYS",
	}
	for _, k := range []string{"mount proc", "mount sysfs", "mount tmpfs", "mknod block", "mknod char", "unshare mount", "unshare user", "sysctl write"} {
		want[k] = "refused"
	}
	for k := range rep {
		if strings.HasPrefix(k, "sys ") && k != "sys x32 getpid" {
			want[k] = "EPERM"
		}
	}
	if n := len(want); n < 40 {
		t.Fatalf("report has too few syscall lines (%d expectations):\n%v", n, rep)
	}
	for k, v := range want {
		if rep[k] != v {
			t.Errorf("%s: %q, want %q", k, rep[k], v)
		}
	}
	buildServe(t, tag, "confined")
}
