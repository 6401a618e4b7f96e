//go:build linux

package syscallfilter

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/elastic/go-seccomp-bpf/arch"
	moby "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
	x32Bit  = 0x40000000 // __X32_SYSCALL_BIT: x32 shares x86_64's AUDIT_ARCH
)

var (
	retAllow  = uint32(unix.SECCOMP_RET_ALLOW)
	retENOSYS = uint32(unix.SECCOMP_RET_ERRNO) | uint32(unix.ENOSYS)
)

// Default returns the default profile's filter for a process whose
// bounding set is caps (canonical names, CAP_CHOWN...): some rules depend
// on capabilities (clone with namespace flags needs CAP_SYS_ADMIN...).
func Default(caps []string) ([]unix.SockFilter, error) {
	prof, err := moby.GetDefaultProfile(&specs.Spec{
		Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}},
	})
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	native, err := arch.GetInfo("")
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	def, err := action(prof.DefaultAction, prof.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: default action: %w", err)
	}
	rs, err := rules(prof.Syscalls, native.SyscallNames)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	return assemble(program(rs, native, def))
}

// rule is one syscall's rule: action when every condition holds.
type rule struct {
	nr     uint32
	action uint32
	conds  []specs.LinuxSeccompArg
}

// rules resolves the profile's syscall names against the native table
// (names of other architectures are ignored, as libseccomp does). The
// program tries conditional rules in order after the unconditional ones,
// where libseccomp merges them; the two agree unless a syscall has an
// unconditional rule and another rule with a different action, which is
// refused (Docker's profile has none).
func rules(scs []specs.LinuxSyscall, table map[string]int) ([]rule, error) {
	var out []rule
	acts := map[uint32]uint32{} // nr -> action of its rules
	uncond := map[uint32]bool{}
	for _, sc := range scs {
		act, err := action(sc.Action, sc.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("%v: %w", sc.Names, err)
		}
		for _, a := range sc.Args {
			if a.Index > 5 {
				return nil, fmt.Errorf("%v: argument %d out of range", sc.Names, a.Index)
			}
			if !supported(a.Op) {
				return nil, fmt.Errorf("%v: operator %s is not supported", sc.Names, a.Op)
			}
		}
		for _, name := range sc.Names {
			n, ok := table[name]
			if !ok {
				continue
			}
			nr := uint32(n)
			if prev, ok := acts[nr]; ok && prev != act && (uncond[nr] || len(sc.Args) == 0) {
				return nil, fmt.Errorf("%s: conflicting rules", name)
			}
			acts[nr] = act
			uncond[nr] = uncond[nr] || len(sc.Args) == 0
			out = append(out, rule{nr: nr, action: act, conds: sc.Args})
		}
	}
	return out, nil
}

// action is an OCI action as a seccomp return value; an ERRNO without
// errno means EPERM, as in runc.
func action(a specs.LinuxSeccompAction, errno *uint) (uint32, error) {
	switch a {
	case specs.ActAllow:
		return retAllow, nil
	case specs.ActErrno:
		e := uint(unix.EPERM)
		if errno != nil {
			e = *errno
		}
		if e == 0 || e > unix.SECCOMP_RET_DATA {
			return 0, fmt.Errorf("errno %d out of range", e)
		}
		return uint32(unix.SECCOMP_RET_ERRNO) | uint32(e), nil
	}
	return 0, fmt.Errorf("action %s is not supported", a)
}

// program is the filter: wrong architecture -> def; x32 -> ENOSYS; the
// unconditional rules, grouped by action; the conditional ones; def.
// Every jump is forward, and every conditional one short.
func program(rs []rule, a *arch.Info, def uint32) []bpf.Instruction {
	p := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(a.ID), SkipTrue: 1},
		bpf.RetConstant{Val: def},
		bpf.LoadAbsolute{Off: offNr, Size: 4},
	}
	if a.ID == arch.X86_64.ID {
		p = append(p, bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: x32Bit, SkipFalse: 1}, bpf.RetConstant{Val: retENOSYS})
	}
	byAction := map[uint32][]uint32{}
	var order []uint32
	for _, r := range rs {
		if len(r.conds) > 0 {
			continue
		}
		if _, ok := byAction[r.action]; !ok {
			order = append(order, r.action)
		}
		byAction[r.action] = append(byAction[r.action], r.nr)
	}
	for _, act := range order {
		p = append(p, anyOf(byAction[act], act)...)
	}
	for _, r := range rs {
		if len(r.conds) > 0 {
			p = append(p, guarded(r)...)
		}
	}
	return append(p, bpf.RetConstant{Val: def})
}

// anyOf returns act if the syscall number (in A) is one of nrs, and falls
// through past its end otherwise. It is a binary search over the sorted
// numbers (a few comparisons for any syscall, where a list of the
// profile's ~370 would cost hundreds on the hottest ones), each leaf a
// short list of comparisons with its own return.
func anyOf(nrs []uint32, act uint32) []bpf.Instruction {
	sorted := slices.Clone(nrs)
	slices.Sort(sorted)
	return search(slices.Compact(sorted), act)
}

const leafSize = 4

func search(nrs []uint32, act uint32) []bpf.Instruction {
	if len(nrs) <= leafSize {
		var out []bpf.Instruction
		for i, nr := range nrs {
			out = append(out, bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr, SkipTrue: uint8(len(nrs) - i)})
		}
		return append(out, bpf.Jump{Skip: 1}, bpf.RetConstant{Val: act})
	}
	mid := len(nrs) / 2
	low, high := search(nrs[:mid], act), search(nrs[mid:], act)
	// >= nrs[mid]: the high half, then jump past the low one; else the low
	// half. Long distances go through ja, whose offset is 32 bits.
	out := []bpf.Instruction{
		bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: nrs[mid], SkipTrue: 1},
		bpf.Jump{Skip: uint32(len(high) + 1)},
	}
	out = append(out, high...)
	out = append(out, bpf.Jump{Skip: uint32(len(low))})
	return append(out, low...)
}

// fail is a jump target in a condition: the block's reload of the
// syscall number, after its return.
const fail = -1

// jmp is a conditional jump whose targets are skips within a condition,
// or fail.
type jmp struct {
	cond bpf.JumpTest
	val  uint32
	t, f int
}

// guarded is a conditional rule's block: if the number matches and every
// condition holds, return the action; else reload the number (conditions
// overwrite A) and go on.
func guarded(r rule) []bpf.Instruction {
	var body []any // bpf.Instruction or jmp
	for _, c := range r.conds {
		body = append(body, condition(c)...)
	}
	out := []bpf.Instruction{bpf.JumpIf{Cond: bpf.JumpEqual, Val: r.nr, SkipFalse: uint8(len(body) + 2)}}
	reload := len(body) + 1 // index in body terms of the reload, after the return
	for i, ins := range body {
		j, ok := ins.(jmp)
		if !ok {
			out = append(out, ins.(bpf.Instruction))
			continue
		}
		skip := func(t int) uint8 {
			if t == fail {
				return uint8(reload - i - 1)
			}
			return uint8(t)
		}
		out = append(out, bpf.JumpIf{Cond: j.cond, Val: j.val, SkipTrue: skip(j.t), SkipFalse: skip(j.f)})
	}
	return append(out, bpf.RetConstant{Val: r.action}, bpf.LoadAbsolute{Off: offNr, Size: 4})
}

// condition compares a 64-bit argument with the profile's value, one
// 32-bit half at a time; falling through means it holds.
func condition(c specs.LinuxSeccompArg) []any {
	hi, lo := argWords(c.Index)
	vhi, vlo := uint32(c.Value>>32), uint32(c.Value)
	switch c.Op {
	case specs.OpEqualTo:
		return []any{hi, jmp{bpf.JumpEqual, vhi, 0, fail}, lo, jmp{bpf.JumpEqual, vlo, 0, fail}}
	case specs.OpNotEqual:
		return []any{hi, jmp{bpf.JumpEqual, vhi, 0, 2}, lo, jmp{bpf.JumpEqual, vlo, fail, 0}}
	case specs.OpMaskedEqual: // (arg & Value) == ValueTwo
		return []any{
			hi, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: vhi}, jmp{bpf.JumpEqual, uint32(c.ValueTwo >> 32), 0, fail},
			lo, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: vlo}, jmp{bpf.JumpEqual, uint32(c.ValueTwo), 0, fail},
		}
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		last := bpf.JumpGreaterThan
		if c.Op == specs.OpGreaterEqual {
			last = bpf.JumpGreaterOrEqual
		}
		// hi > vhi holds; hi < vhi fails; equal: compare lo.
		return []any{hi, jmp{bpf.JumpGreaterThan, vhi, 3, 0}, jmp{bpf.JumpEqual, vhi, 0, fail}, lo, jmp{last, vlo, 0, fail}}
	case specs.OpLessThan, specs.OpLessEqual:
		last := bpf.JumpGreaterOrEqual
		if c.Op == specs.OpLessEqual {
			last = bpf.JumpGreaterThan
		}
		// hi < vhi holds; hi > vhi fails; equal: compare lo.
		return []any{hi, jmp{bpf.JumpGreaterOrEqual, vhi, 0, 3}, jmp{bpf.JumpEqual, vhi, 0, fail}, lo, jmp{last, vlo, fail, 0}}
	}
	return nil // unreachable: rules refuses other operators
}

func supported(op specs.LinuxSeccompOperator) bool {
	switch op {
	case specs.OpEqualTo, specs.OpNotEqual, specs.OpMaskedEqual, specs.OpGreaterThan,
		specs.OpGreaterEqual, specs.OpLessThan, specs.OpLessEqual:
		return true
	}
	return false
}

// argWords loads the high and low 32-bit words of argument i.
func argWords(i uint) (hi, lo bpf.Instruction) {
	off := uint32(offArgs + 8*i)
	hiOff, loOff := off+4, off
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 { // big-endian
		hiOff, loOff = off, off+4
	}
	return bpf.LoadAbsolute{Off: hiOff, Size: 4}, bpf.LoadAbsolute{Off: loOff, Size: 4}
}

// assemble encodes the program for the kernel.
func assemble(insts []bpf.Instruction) ([]unix.SockFilter, error) {
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return nil, fmt.Errorf("seccomp filter: %w", err)
	}
	if len(raw) > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("seccomp filter: %d instructions, more than the kernel takes", len(raw))
	}
	out := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		out[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return out, nil
}
