package run

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxMemoryLimit is cgroup-limits' MAX_MEMORY_LIMIT_IN_BYTES (and the value
// it reports for a memory limit of "max").
const MaxMemoryLimit int64 = math.MaxInt64

// noMemoryLimit is the threshold above which cgroup-limits says NO_MEMORY_LIMIT=true.
const noMemoryLimit int64 = 92233720368547

// Limits is what upstream's cgroup-limits prints, read in Go.
type Limits struct {
	// Memory is MEMORY_LIMIT_IN_BYTES; HasMemory is false when it was not
	// detected (cgroup-limits then omits the key).
	Memory    int64
	HasMemory bool
	// Cores is NUMBER_OF_CORES: the smallest non-zero value among the CPU
	// quota (integer division: a quota below one CPU counts as none), the
	// cpuset size and nproc; 0 when unknown.
	Cores int
	// Warnings are the lines cgroup-limits writes to stderr.
	Warnings []string
}

// NoMemoryLimit is cgroup-limits' NO_MEMORY_LIMIT.
func (l Limits) NoMemoryLimit() bool { return l.HasMemory && l.Memory >= noMemoryLimit }

// ReadLimits reads the cgroup v1 files, then the v2 ones, under root (the
// file system root, "/" in a container) as cgroup-limits does; nproc is the
// number of usable CPUs (the value nproc prints).
func ReadLimits(root string, nproc int) Limits {
	var l Limits
	cg := filepath.Join(root, "sys/fs/cgroup")

	// Memory: v1 limit_in_bytes unless missing or empty, then v2 memory.max.
	mem, ok := readTrim(filepath.Join(cg, "memory/memory.limit_in_bytes"))
	if !ok || mem == "" {
		mem, _ = readTrim(filepath.Join(cg, "memory.max"))
	}
	switch {
	case mem == "max":
		l.Memory, l.HasMemory = MaxMemoryLimit, true
	case isDigits(mem):
		if v, err := strconv.ParseInt(mem, 10, 64); err == nil {
			l.Memory, l.HasMemory = v, true
		} else {
			l.Memory, l.HasMemory = MaxMemoryLimit, true // beyond int64: unlimited
		}
	default:
		l.Warnings = append(l.Warnings, "Warning: Can't detect memory limit from cgroups")
	}

	// CPU quota: v1 cfs_quota_us / cfs_period_us, else v2 cpu.max "QUOTA PERIOD".
	quota := 0
	if q, ok := readTrim(filepath.Join(cg, "cpu/cpu.cfs_quota_us")); ok {
		if q != "-1" {
			p, _ := readTrim(filepath.Join(cg, "cpu/cpu.cfs_period_us"))
			quota = intDiv(q, p)
		}
	} else if m, ok := readTrim(filepath.Join(cg, "cpu.max")); ok {
		if f := strings.Fields(m); len(f) == 2 && f[0] != "max" {
			quota = intDiv(f[0], f[1])
		}
	} else {
		l.Warnings = append(l.Warnings, "Warning: Can't detect cpu quota from cgroups")
	}

	// cpuset: v1 cpuset.cpus, else v2 cpuset.cpus.effective.
	cpuset := 0
	if s, ok := readTrim(filepath.Join(cg, "cpuset/cpuset.cpus")); ok {
		cpuset = countCPUs(s)
	} else if s, ok := readTrim(filepath.Join(cg, "cpuset.cpus.effective")); ok {
		cpuset = countCPUs(s)
	} else {
		l.Warnings = append(l.Warnings, "Warning: Can't detect cpuset size from cgroups, will use nproc")
	}

	for _, n := range []int{quota, cpuset, nproc} {
		if n > 0 && (l.Cores == 0 || n < l.Cores) {
			l.Cores = n
		}
	}
	return l
}

// Workers is upstream run's get_default_web_concurrency: at least 43 MiB plus
// 40 MiB per worker, at most two per core, at least 1, at most 12; 1 when the
// number of cores is unknown. Bash integer arithmetic (truncation toward zero).
func Workers(l Limits) int {
	if l.Cores <= 0 {
		return 1
	}
	limit := 2 * int64(l.Cores)
	mem := MaxMemoryLimit
	if l.HasMemory {
		mem = l.Memory
	}
	n := (mem/1024/1024 - 43) / 40
	if n > limit {
		n = limit
	}
	if n < 1 {
		n = 1
	}
	if n > 12 {
		n = 12
	}
	return int(n)
}

func readTrim(path string) (string, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// intDiv is Python's int(a) // int(b) for the cgroup values; 0 on nonsense.
func intDiv(a, b string) int {
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || y <= 0 || x <= 0 {
		return 0
	}
	return int(x / y)
}

// countCPUs counts a cpuset list such as "0-3,8,10-11".
func countCPUs(s string) int {
	n := 0
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		if !isRange {
			if _, err := strconv.Atoi(lo); err == nil {
				n++
			}
			continue
		}
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 == nil && err2 == nil && b >= a {
			n += b - a + 1
		}
	}
	return n
}
