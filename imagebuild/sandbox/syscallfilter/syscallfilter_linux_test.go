//go:build linux && amd64

package syscallfilter

import (
	"encoding/binary"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
	moby "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// podman's default capability set (containers.conf, podman 4.3).
var podmanCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
}

const (
	allow  = unix.SECCOMP_RET_ALLOW
	eperm  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)

	auditArchX86_64 = 0xc000003e
	auditArchI386   = 0x40000003
)

// call is one syscall as the kernel hands it to the filter (struct seccomp_data).
type call struct {
	arch uint32
	nr   uint32
	args [6]uint64
}

// packet lays c out for x/net/bpf's VM, whose loads are big-endian where
// the kernel's are native: each 32-bit word is stored big-endian at the
// offset the filter reads it from (the low word of an argument first, as on
// little-endian x86_64).
func (c call) packet() []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[0:], c.nr)
	binary.BigEndian.PutUint32(b[4:], c.arch)
	for i, a := range c.args {
		binary.BigEndian.PutUint32(b[16+8*i:], uint32(a))
		binary.BigEndian.PutUint32(b[16+8*i+4:], uint32(a>>32))
	}
	return b
}

func native(nr uintptr, args ...uint64) call {
	c := call{arch: auditArchX86_64, nr: uint32(nr)}
	copy(c.args[:], args)
	return c
}

// run evaluates the filter on c in x/net/bpf's VM.
func run(t *testing.T, prog []unix.SockFilter, c call) uint32 {
	t.Helper()
	raw := make([]bpf.RawInstruction, len(prog))
	for i, f := range prog {
		raw[i] = bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}
	}
	insts, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatal("the filter has instructions x/net/bpf cannot run")
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	ret, err := vm.Run(c.packet())
	if err != nil {
		t.Fatal(err)
	}
	return uint32(ret)
}

func TestDefault(t *testing.T) {
	const nsFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET
	tests := []struct {
		name string
		caps []string
		call call
		want uint32
	}{
		{"read", podmanCaps, native(unix.SYS_READ), allow},
		{"execve", podmanCaps, native(unix.SYS_EXECVE), allow},
		{"chroot with CAP_SYS_CHROOT", podmanCaps, native(unix.SYS_CHROOT), allow},
		{"chroot without CAP_SYS_CHROOT", nil, native(unix.SYS_CHROOT), eperm},
		{"clone of a thread", podmanCaps, native(unix.SYS_CLONE, unix.CLONE_VM|unix.CLONE_THREAD|unix.CLONE_SIGHAND), allow},
		{"clone with a new user namespace", podmanCaps, native(unix.SYS_CLONE, unix.CLONE_NEWUSER|uint64(unix.SIGCHLD)), eperm},
		{"clone with a new mount namespace", podmanCaps, native(unix.SYS_CLONE, unix.CLONE_NEWNS), eperm},
		{"clone3 (flags unreadable): ENOSYS, callers fall back to clone", podmanCaps, native(unix.SYS_CLONE3), enosys},
		{"personality(PER_LINUX)", podmanCaps, native(unix.SYS_PERSONALITY, 0), allow},
		{"personality query", podmanCaps, native(unix.SYS_PERSONALITY, 0xffffffff), allow},
		{"personality(ADDR_NO_RANDOMIZE)", podmanCaps, native(unix.SYS_PERSONALITY, 0x0040000), eperm},
		{"personality with high bits", podmanCaps, native(unix.SYS_PERSONALITY, 1<<32), eperm},
		{"socket AF_INET", podmanCaps, native(unix.SYS_SOCKET, unix.AF_INET), allow},
		{"socket AF_UNIX", podmanCaps, native(unix.SYS_SOCKET, unix.AF_UNIX), allow},
		{"socket AF_VSOCK", podmanCaps, native(unix.SYS_SOCKET, unix.AF_VSOCK), eperm},
		{"socket AF_ALG", podmanCaps, native(unix.SYS_SOCKET, unix.AF_ALG), eperm},
		{"ptrace (kernel >= 4.8)", podmanCaps, native(unix.SYS_PTRACE), allow},
		{"i386 ABI", podmanCaps, call{arch: auditArchI386, nr: 3}, eperm},
		{"x32 ABI", podmanCaps, call{arch: auditArchX86_64, nr: x32Bit | unix.SYS_READ}, enosys},
		{"mount with CAP_SYS_ADMIN", append([]string{"CAP_SYS_ADMIN"}, podmanCaps...), native(unix.SYS_MOUNT), allow},
		{"clone with namespaces and CAP_SYS_ADMIN", append([]string{"CAP_SYS_ADMIN"}, podmanCaps...), native(unix.SYS_CLONE, nsFlags), allow},
	}
	denied := map[string]uintptr{
		"mount": unix.SYS_MOUNT, "umount2": unix.SYS_UMOUNT2, "pivot_root": unix.SYS_PIVOT_ROOT,
		"unshare": unix.SYS_UNSHARE, "setns": unix.SYS_SETNS, "keyctl": unix.SYS_KEYCTL,
		"add_key": unix.SYS_ADD_KEY, "request_key": unix.SYS_REQUEST_KEY, "bpf": unix.SYS_BPF,
		"perf_event_open": unix.SYS_PERF_EVENT_OPEN, "kexec_load": unix.SYS_KEXEC_LOAD,
		"kexec_file_load": unix.SYS_KEXEC_FILE_LOAD, "init_module": unix.SYS_INIT_MODULE,
		"finit_module": unix.SYS_FINIT_MODULE, "delete_module": unix.SYS_DELETE_MODULE,
		"reboot": unix.SYS_REBOOT, "swapon": unix.SYS_SWAPON, "swapoff": unix.SYS_SWAPOFF,
		"acct": unix.SYS_ACCT, "settimeofday": unix.SYS_SETTIMEOFDAY, "clock_settime": unix.SYS_CLOCK_SETTIME,
		"open_by_handle_at": unix.SYS_OPEN_BY_HANDLE_AT, "userfaultfd": unix.SYS_USERFAULTFD,
		"iopl": unix.SYS_IOPL, "ioperm": unix.SYS_IOPERM, "io_uring_setup": unix.SYS_IO_URING_SETUP,
		"io_uring_enter": unix.SYS_IO_URING_ENTER, "uselib": unix.SYS_USELIB, "sysfs": unix.SYS_SYSFS,
		"_sysctl": unix.SYS__SYSCTL, "ustat": unix.SYS_USTAT, "nfsservctl": unix.SYS_NFSSERVCTL,
		"quotactl": unix.SYS_QUOTACTL, "lookup_dcookie": unix.SYS_LOOKUP_DCOOKIE,
		"vhangup": unix.SYS_VHANGUP, "syslog": unix.SYS_SYSLOG, "fsopen": unix.SYS_FSOPEN,
		"move_mount": unix.SYS_MOVE_MOUNT, "open_tree": unix.SYS_OPEN_TREE, "mount_setattr": unix.SYS_MOUNT_SETATTR,
	}
	for name, nr := range denied {
		tests = append(tests, struct {
			name string
			caps []string
			call call
			want uint32
		}{name, podmanCaps, native(nr), eperm})
	}
	progs := map[int]*[]unix.SockFilter{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := len(tt.caps) // the test's cap sets differ in length
			if progs[key] == nil {
				p, err := Default(tt.caps)
				if err != nil {
					t.Fatal(err)
				}
				progs[key] = &p
			}
			if got := run(t, *progs[key], tt.call); got != tt.want {
				t.Errorf("filter returned %#x, want %#x", got, tt.want)
			}
		})
	}
}

// Each operator, on 64-bit values whose halves differ, and a failed
// condition that must not disturb the rules after it.
func TestConditions(t *testing.T) {
	const v = 0x1_0000_0010
	arg := func(op specs.LinuxSeccompOperator) []specs.LinuxSeccompArg {
		return []specs.LinuxSeccompArg{{Index: 2, Value: v, Op: op}}
	}
	tests := []struct {
		op   specs.LinuxSeccompOperator
		pass []uint64
		fail []uint64
	}{
		{specs.OpEqualTo, []uint64{v}, []uint64{0x10, 0x1_0000_0000, v + 1}},
		{specs.OpNotEqual, []uint64{0x10, 0x1_0000_0000, v + 1}, []uint64{v}},
		{specs.OpLessThan, []uint64{0, 0x10, 0xffff_ffff, v - 1}, []uint64{v, v + 1, 0x2_0000_0000}},
		{specs.OpLessEqual, []uint64{0, v - 1, v}, []uint64{v + 1, 0x2_0000_0000}},
		{specs.OpGreaterThan, []uint64{v + 1, 0x2_0000_0000}, []uint64{0, 0xffff_ffff, v}},
		{specs.OpGreaterEqual, []uint64{v, v + 1, 0x2_0000_0000}, []uint64{0, 0xffff_ffff, v - 1}},
	}
	for _, tt := range tests {
		t.Run(string(tt.op), func(t *testing.T) {
			prog := mustProgram(t, []rule{
				{nr: unix.SYS_WRITE, action: allow, conds: arg(tt.op)},
				{nr: unix.SYS_READ, action: allow},
			})
			for _, a := range tt.pass {
				if got := run(t, prog, native(unix.SYS_WRITE, 0, 0, a)); got != allow {
					t.Errorf("arg %#x: %#x, want allow", a, got)
				}
			}
			for _, a := range tt.fail {
				if got := run(t, prog, native(unix.SYS_WRITE, 0, 0, a)); got != eperm {
					t.Errorf("arg %#x: %#x, want EPERM", a, got)
				}
			}
		})
	}
	t.Run("masked equal and the rules after a failed one", func(t *testing.T) {
		prog := mustProgram(t, []rule{
			{nr: unix.SYS_WRITE, action: allow, conds: []specs.LinuxSeccompArg{{Index: 0, Value: 0xf0_0000_00f0, ValueTwo: 0x10_0000_0010, Op: specs.OpMaskedEqual}}},
			{nr: unix.SYS_CLOSE, action: allow, conds: []specs.LinuxSeccompArg{{Index: 0, Value: 3, Op: specs.OpEqualTo}}},
			{nr: unix.SYS_EXECVE, action: allow, conds: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}}},
		})
		for _, c := range []struct {
			call call
			want uint32
		}{
			{native(unix.SYS_WRITE, 0x1f_0000_001f), allow},
			{native(unix.SYS_WRITE, 0x1f_0000_002f), eperm},
			{native(unix.SYS_WRITE, 0x2f_0000_001f), eperm},
			// A failed check leaves A holding the argument: it must be
			// reloaded, or this argument (3) would be taken for close.
			{native(unix.SYS_WRITE, unix.SYS_CLOSE), eperm},
			{native(unix.SYS_CLOSE, 3), allow},
			{native(unix.SYS_EXECVE, 1), allow},
			{native(unix.SYS_EXECVE, 2), eperm},
		} {
			if got := run(t, prog, c.call); got != c.want {
				t.Errorf("%+v: %#x, want %#x", c.call, got, c.want)
			}
		}
	})
}

func mustProgram(t *testing.T, rs []rule) []unix.SockFilter {
	t.Helper()
	p, err := assemble(program(rs, arch.X86_64, eperm))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The program agrees with the rules read plainly, for every syscall number
// (and a few arguments): the binary search misses none and adds none.
func TestProgramMatchesRules(t *testing.T) {
	prof, err := moby.GetDefaultProfile(&specs.Spec{
		Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: podmanCaps}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules(prof.Syscalls, arch.X86_64.SyscallNames)
	if err != nil {
		t.Fatal(err)
	}
	prog := mustProgram(t, rs)
	allowed := 0
	for nr := uint32(0); nr < 600; nr++ {
		for _, a := range []uint64{0, 1, 3, unix.AF_INET, unix.AF_VSOCK, 0xffffffff, unix.CLONE_NEWUSER} {
			c := native(uintptr(nr), a)
			want := reference(rs, c)
			if got := run(t, prog, c); got != want {
				t.Fatalf("syscall %d (%s) arg %#x: %#x, want %#x", nr, arch.X86_64.SyscallNumbers[int(nr)], a, got, want)
			}
			if a == 0 && want == allow {
				allowed++
			}
		}
	}
	if allowed < 300 {
		t.Errorf("only %d syscalls allowed: the profile was not read", allowed)
	}
}

// reference decides as libseccomp would: the action of an unconditional
// rule, else of the first conditional rule that holds, else EPERM.
func reference(rs []rule, c call) uint32 {
	for _, r := range rs {
		if r.nr == c.nr && len(r.conds) == 0 {
			return r.action
		}
	}
	for _, r := range rs {
		if r.nr != c.nr {
			continue
		}
		holds := true
		for _, a := range r.conds {
			v := c.args[a.Index]
			switch a.Op {
			case specs.OpEqualTo:
				holds = holds && v == a.Value
			case specs.OpNotEqual:
				holds = holds && v != a.Value
			case specs.OpLessThan:
				holds = holds && v < a.Value
			case specs.OpLessEqual:
				holds = holds && v <= a.Value
			case specs.OpGreaterThan:
				holds = holds && v > a.Value
			case specs.OpGreaterEqual:
				holds = holds && v >= a.Value
			case specs.OpMaskedEqual:
				holds = holds && v&a.Value == a.ValueTwo
			}
		}
		if holds {
			return r.action
		}
	}
	return eperm
}
