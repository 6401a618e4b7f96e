// Package syscallfilter (Linux only) turns the container engines' default seccomp
// profile into the BPF program that the sandbox installs: the profile is
// Docker's (github.com/moby/profiles/seccomp, which podman's seccomp.json
// follows), resolved for the command's capability set and this machine's
// architecture and kernel as runc resolves it, then assembled here with
// golang.org/x/net/bpf (github.com/elastic/go-seccomp-bpf gives the syscall
// tables; its own assembler is not used: after a failed argument check its
// programs go on comparing the argument as if it were the syscall number).
// It is pure apart from the kernel version the profile reads for its
// kernel-dependent rules.
//
// It is an allowlist, as Docker's: a syscall the profile does not name
// fails with EPERM. A denylist would have to be kept equal to it by hand,
// and every syscall a newer kernel adds would be allowed until someone
// noticed; the allowlist is what every Docker and podman build runs under
// (pip, gcc, venvs included), so it is known not to get in a build's way.
//
// Stricter than the profile in one point: only the native ABI is allowed.
// The profile also allows the i386 and x32 ABIs on x86_64; here a syscall
// of another architecture fails with EPERM and one of the x32 ABI with
// ENOSYS, so 32-bit programs cannot run in the sandbox, and a rule on a
// syscall number cannot be dodged through a second syscall table.
package syscallfilter
