package run

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// writeTree writes files (path -> content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, body := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadLimits(t *testing.T) {
	const GiB = 1 << 30
	tests := []struct {
		name  string
		files map[string]string
		nproc int
		want  Limits
	}{
		{"v1 spec example: --cpus 4 --cpuset-cpus=2-4 --memory 2G", map[string]string{
			"memory/memory.limit_in_bytes": "2147483648\n",
			"cpu/cpu.cfs_quota_us":         "400000\n", "cpu/cpu.cfs_period_us": "100000\n",
			"cpuset/cpuset.cpus": "2-4\n",
		}, 8, Limits{Memory: 2 * GiB, HasMemory: true, Cores: 3}},
		{"v2 spec example", map[string]string{
			"memory.max": "2147483648\n", "cpu.max": "400000 100000\n", "cpuset.cpus.effective": "2-4\n",
		}, 8, Limits{Memory: 2 * GiB, HasMemory: true, Cores: 3}},
		{"v1 unlimited (host hybrid)", map[string]string{
			"memory/memory.limit_in_bytes": "9223372036854771712\n",
			"cpu/cpu.cfs_quota_us":         "-1\n", "cpu/cpu.cfs_period_us": "100000\n",
			"cpuset/cpuset.cpus": "0-1\n",
		}, 2, Limits{Memory: 9223372036854771712, HasMemory: true, Cores: 2}},
		{"v2 max everywhere", map[string]string{
			"memory.max": "max\n", "cpu.max": "max 100000\n", "cpuset.cpus.effective": "0-15\n",
		}, 16, Limits{Memory: MaxMemoryLimit, HasMemory: true, Cores: 16}},
		{"fractional quota is ignored (integer division)", map[string]string{
			"memory.max": "536870912\n", "cpu.max": "50000 100000\n", "cpuset.cpus.effective": "0-7\n",
		}, 8, Limits{Memory: 512 << 20, HasMemory: true, Cores: 8}},
		{"1.5 CPUs count as 1", map[string]string{
			"cpu/cpu.cfs_quota_us": "150000", "cpu/cpu.cfs_period_us": "100000", "cpuset/cpuset.cpus": "0-3",
			"memory/memory.limit_in_bytes": "1073741824",
		}, 4, Limits{Memory: GiB, HasMemory: true, Cores: 1}},
		{"cpuset list with singles", map[string]string{
			"memory.max": "max", "cpu.max": "max 100000", "cpuset.cpus.effective": "0,2,4-5,8",
		}, 16, Limits{Memory: MaxMemoryLimit, HasMemory: true, Cores: 5}},
		{"nproc is smallest", map[string]string{
			"memory.max": "max", "cpu.max": "800000 100000", "cpuset.cpus.effective": "0-7",
		}, 2, Limits{Memory: MaxMemoryLimit, HasMemory: true, Cores: 2}},
		{"v1 file empty falls back to v2", map[string]string{
			"memory/memory.limit_in_bytes": "", "memory.max": "268435456", "cpu.max": "max 100000",
			"cpuset.cpus.effective": "0-3",
		}, 4, Limits{Memory: 256 << 20, HasMemory: true, Cores: 4}},
		{"nothing readable", map[string]string{}, 4, Limits{Cores: 4, Warnings: []string{
			"Warning: Can't detect memory limit from cgroups",
			"Warning: Can't detect cpu quota from cgroups",
			"Warning: Can't detect cpuset size from cgroups, will use nproc",
		}}},
		{"garbage memory", map[string]string{
			"memory.max": "lots", "cpu.max": "max 100000", "cpuset.cpus.effective": "0",
		}, 4, Limits{Cores: 1, Warnings: []string{"Warning: Can't detect memory limit from cgroups"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			files := map[string]string{}
			for p, b := range tt.files {
				files["sys/fs/cgroup/"+p] = b
			}
			writeTree(t, root, files)
			got := ReadLimits(root, tt.nproc)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestWorkers(t *testing.T) {
	const Mi = 1 << 20
	tests := []struct {
		name string
		l    Limits
		want int
	}{
		// The spec's table (section 3.2), checked against the bash.
		{"4 cores unlimited", Limits{Memory: MaxMemoryLimit, HasMemory: true, Cores: 4}, 8},
		{"8 cores 512Mi", Limits{Memory: 512 * Mi, HasMemory: true, Cores: 8}, 11},
		{"8 cores 256Mi", Limits{Memory: 256 * Mi, HasMemory: true, Cores: 8}, 5},
		{"8 cores 64Mi", Limits{Memory: 64 * Mi, HasMemory: true, Cores: 8}, 1},
		{"16 cores 1Gi", Limits{Memory: 1024 * Mi, HasMemory: true, Cores: 16}, 12},
		{"unknown cores", Limits{Memory: 1024 * Mi, HasMemory: true}, 1},
		// More edges.
		{"memory unknown uses MAX", Limits{Cores: 3}, 6},
		{"tiny memory truncates toward zero", Limits{Memory: 10 * Mi, HasMemory: true, Cores: 4}, 1},
		{"exactly 83Mi gives 1", Limits{Memory: 83 * Mi, HasMemory: true, Cores: 4}, 1},
		{"123Mi gives 2", Limits{Memory: 123 * Mi, HasMemory: true, Cores: 4}, 2},
		{"1 core caps at 2", Limits{Memory: 4096 * Mi, HasMemory: true, Cores: 1}, 2},
		{"64 cores cap at 12", Limits{Memory: MaxMemoryLimit, HasMemory: true, Cores: 64}, 12},
		{"host v1 unlimited 2 cores", Limits{Memory: 9223372036854771712, HasMemory: true, Cores: 2}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Workers(tt.l); got != tt.want {
				t.Errorf("Workers(%+v) = %d, want %d", tt.l, got, tt.want)
			}
		})
	}
}

// The full path from files to a worker count, for the spec's podman example.
func TestWorkersFromTree(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"sys/fs/cgroup/memory.max": "2147483648\n", "sys/fs/cgroup/cpu.max": "400000 100000\n",
		"sys/fs/cgroup/cpuset.cpus.effective": "2-4\n",
	})
	// 2048-43 = 2005 / 40 = 50, capped at 2*3 = 6.
	if got := Workers(ReadLimits(root, 8)); got != 6 {
		t.Errorf("got %d, want 6", got)
	}
}
