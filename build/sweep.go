package build

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/storage"

	"github.com/pys2i/pys2i/container"
)

// containerPrefix starts the name of every build container, and of its
// temp dir (they share the name).
const containerPrefix = "pys2i-build-"

// sweepStale removes what builds of pys2i processes that died without
// cleaning up (SIGKILL, a crash) left: their containers (unmounted and
// deleted with their layers) and temp dirs. Containers of live processes,
// and those that pys2i did not create (podman's), are never touched. One
// log line per container removed; a failure is only a warning: it is not
// this build's problem.
func sweepStale(store storage.Store, logf func(string, ...any)) {
	stale, err := container.FindStale(store, containerPrefix)
	if err != nil {
		logf("warning: looking for stale build containers: %v", err)
		return
	}
	for _, s := range stale {
		if err := container.RemoveStale(store, s.ID); err != nil {
			logf("warning: stale build container %.12s: %v", s.ID, err)
			continue
		}
		var dirs []string
		for _, n := range s.Names {
			if d, ok := staleTempDir(s.Owner.TempDir, n); ok {
				if err := removeUnmounted(d); err != nil {
					logf("warning: stale build container %.12s: %v", s.ID, err)
					continue
				}
				dirs = append(dirs, d)
			}
		}
		logf("pys2i: removed stale build container %.12s %v of pys2i process %d, which is gone (temp dirs removed: %v)",
			s.ID, s.Names, s.Owner.PID, dirs)
	}
}

// staleTempDir is the temp dir of the build container named name, if its
// owner recorded where it kept temp files and the name is one of ours.
func staleTempDir(tmp, name string) (string, bool) {
	if tmp == "" || !filepath.IsAbs(tmp) || !strings.HasPrefix(name, containerPrefix) ||
		strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", false
	}
	return filepath.Join(tmp, name), true
}

// removeUnmounted removes dir unless something is mounted on or below it
// (RemoveAll would then delete files through the mount). A missing dir is
// fine.
func removeUnmounted(dir string) error {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read the mount table: %w", err)
	}
	for _, line := range strings.Split(string(mi), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			return fmt.Errorf("temp dir %s: %s is mounted there; left alone", dir, f[4])
		}
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove temp dir: %w", err)
	}
	return nil
}
