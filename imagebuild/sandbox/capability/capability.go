// Package capability names Linux capabilities: CAP_CHOWN is 0, and so on,
// as in linux/capability.h. It is pure: the sandbox applies them.
package capability

import (
	"fmt"
	"slices"
	"strings"
)

// names are the capabilities by number (linux/capability.h, up to 6.x).
var names = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// All is the --cap-drop value that means every capability.
const All = "ALL"

// Canonical returns name as CAP_NAME (upper case, the prefix optional on
// input, as Docker takes it), "ALL" for all, or an error for an unknown name.
func Canonical(name string) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if n == All {
		return All, nil
	}
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	for _, k := range names {
		if k == n {
			return n, nil
		}
	}
	return "", fmt.Errorf("unknown capability %q", name)
}

// Numbers returns the numbers of canonical names; "ALL" gives every
// capability this package knows. An unknown name is an error.
func Numbers(canonical []string) ([]int, error) {
	var out []int
	for _, c := range canonical {
		if c == All {
			out = out[:0]
			for i := range names {
				out = append(out, i)
			}
			return out, nil
		}
		found := false
		for i, k := range names {
			if k == c {
				out = append(out, i)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown capability %q", c)
		}
	}
	return out, nil
}

// Name is the name of capability n ("CAP_n" if unknown).
func Name(n int) string {
	if n >= 0 && n < len(names) {
		return names[n]
	}
	return fmt.Sprintf("CAP_%d", n)
}

// Default is the capability set an engine gives a container's process:
// podman's default_capabilities (containers.conf of podman 4.3; Docker's
// adds AUDIT_WRITE, MKNOD, NET_RAW, which podman dropped). A new slice
// each call.
func Default() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
		"CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
		"CAP_SYS_CHROOT",
	}
}

// Keep returns the numbers of the canonical names in set that drop (numbers)
// does not name, in set's order.
func Keep(set []string, drop []int) ([]int, error) {
	nums, err := Numbers(set)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, n := range nums {
		if !slices.Contains(drop, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// Names returns the names of capability numbers.
func Names(nums []int) []string {
	out := make([]string, len(nums))
	for i, n := range nums {
		out[i] = Name(n)
	}
	return out
}
