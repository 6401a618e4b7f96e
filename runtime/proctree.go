package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Stragglers are the processes the wrapper sends TERM again while the child
// is stopping: every descendant of self (parents maps pid to parent pid)
// except the child itself. The child got the first TERM straight from the
// wrapper, and an unhandled TERM ends a process that is not PID 1, so it
// cannot have lost it; its own children got theirs from it, and those can
// be lost (see Supervise). Orphans re-parented to self are included.
func Stragglers(parents map[int]int, self, child int) []int {
	kids := map[int][]int{}
	for pid, ppid := range parents {
		kids[ppid] = append(kids[ppid], pid)
	}
	var out []int
	seen := map[int]bool{self: true}
	queue := []int{self}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range kids[p] {
			if seen[c] {
				continue // a pid-reuse cycle in a racy snapshot
			}
			seen[c] = true
			queue = append(queue, c)
			if c != child {
				out = append(out, c)
			}
		}
	}
	sort.Ints(out)
	return out
}

// ProcParents reads the parent of every process in the proc file system at
// dir (/proc), and which pid is the reader's own there (dir/self). The
// pids are of the pid namespace that file system was mounted for, which is
// the caller's only when self equals os.Getpid(). Processes that end while
// it reads are left out.
func ProcParents(dir string) (parents map[int]int, self int, err error) {
	link, err := os.Readlink(filepath.Join(dir, "self"))
	if err != nil {
		return nil, 0, fmt.Errorf("read %s/self: %w", dir, err)
	}
	if self, err = strconv.Atoi(link); err != nil {
		return nil, 0, fmt.Errorf("%s/self is %q, not a pid", dir, link)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", dir, err)
	}
	parents = map[int]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "stat"))
		if err != nil {
			continue // gone since the listing
		}
		if ppid, ok := statParent(string(b)); ok {
			parents[pid] = ppid
		}
	}
	return parents, self, nil
}

// statParent is field 4 of /proc/PID/stat; the command name before it is
// in parentheses and may itself hold spaces and parentheses.
func statParent(stat string) (int, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}
