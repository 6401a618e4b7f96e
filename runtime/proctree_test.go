package runtime

import (
	"os"
	"reflect"
	"testing"
)

func TestStragglers(t *testing.T) {
	// 1 the wrapper, 7 the child (an arbiter), 8 and 9 its workers, 12 a
	// worker's helper, 20 an orphan re-parented to the wrapper; 30 and 31
	// are outside the tree.
	parents := map[int]int{1: 0, 7: 1, 8: 7, 9: 7, 12: 9, 20: 1, 30: 0, 31: 30}
	tests := []struct {
		name        string
		self, child int
		want        []int
	}{
		{"all below the wrapper but the child", 1, 7, []int{8, 9, 12, 20}},
		{"child already gone", 1, 99, []int{7, 8, 9, 12, 20}},
		{"a wrapper with nothing below", 31, 40, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Stragglers(parents, tt.self, tt.child); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Stragglers(self %d, child %d) = %v, want %v", tt.self, tt.child, got, tt.want)
			}
		})
	}
	// A cycle (pids reused while /proc was read) must not loop.
	if got := Stragglers(map[int]int{5: 6, 6: 5, 4: 1, 1: 0}, 1, 0); !reflect.DeepEqual(got, []int{4}) {
		t.Errorf("with a cycle: %v, want [4]", got)
	}
}

func TestStatParent(t *testing.T) {
	tests := []struct {
		stat string
		ppid int
		ok   bool
	}{
		{"42 (gunicorn) S 1 42 42 0 -1", 1, true},
		{"43 (a ) b (c) R 7 43 43 0 -1", 7, true},
		{"44 (trunc", 0, false},
		{"45 (x) S", 0, false},
	}
	for _, tt := range tests {
		if ppid, ok := statParent(tt.stat); ppid != tt.ppid || ok != tt.ok {
			t.Errorf("statParent(%q) = %d %v, want %d %v", tt.stat, ppid, ok, tt.ppid, tt.ok)
		}
	}
}

// The real /proc: this test process is self, and its parent is recorded.
func TestProcParents(t *testing.T) {
	parents, self, err := ProcParents("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if self != os.Getpid() {
		t.Errorf("self %d, want %d", self, os.Getpid())
	}
	if parents[self] != os.Getppid() {
		t.Errorf("parent of self %d, want %d", parents[self], os.Getppid())
	}
	if _, _, err := ProcParents(t.TempDir()); err == nil {
		t.Error("a directory without self: no error")
	}
}
