package imagebuild

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.podman.io/storage"

	"github.com/pys2i/pys2i/imagebuild/container"
)

// containerPrefix starts the name of every build container, and of its
// temp dir (they share the name).
const containerPrefix = "pys2i-build-"

// Suffixes of the names of a build's other containers, after its temp dir's
// name: they share the build's prefix, so that the sweep finds them too.
const (
	runtimeSuffix   = "-runtime"   // assemble-runtime's, of the runtime image
	artifactsSuffix = "-artifacts" // save-artifacts', of the previous image
)

// sweepStale removes what builds of pys2i processes that died without
// cleaning up (SIGKILL, a crash) left: their containers (unmounted and
// deleted with their layers), the bare layers of builds on a reused
// dependency layer, and their temp dirs. What live processes use, and what
// pys2i did not create (podman's), is never touched. One log line per
// container or layer removed; a failure is only a warning: it is not this
// build's problem.
func sweepStale(store storage.Store, logf func(string, ...any)) {
	stale, err := container.FindStale(store, containerPrefix)
	if err != nil {
		logf("warning: looking for stale build containers: %v", err)
		return
	}
	for _, s := range stale {
		what := "container"
		if s.Bare {
			what = "layer"
		}
		if err := container.RemoveStale(store, s); err != nil {
			logf("warning: stale build %s %.12s: %v", what, s.ID, err)
			continue
		}
		var dirs []string
		for _, n := range s.Names {
			d, ok := staleTempDir(s.Owner.TempDir, n)
			if !ok {
				continue
			}
			// Only a dir that was there is reported: a build's containers
			// share one, and the first of them swept removes it.
			if _, err := os.Lstat(d); errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err := removeUnmounted(d); err != nil {
				logf("warning: stale build %s %.12s: %v", what, s.ID, err)
				continue
			}
			dirs = append(dirs, d)
		}
		logf("pys2i: removed stale build %s %.12s %v of pys2i process %d, which is gone (temp dirs removed: %v)",
			what, s.ID, s.Names, s.Owner.PID, dirs)
	}
}

// staleTempDir is the temp dir of the build whose container (or layer) is
// named name, if its owner recorded where it kept temp files and the name
// is one of ours. A build's other containers name the same dir.
func staleTempDir(tmp, name string) (string, bool) {
	if tmp == "" || !filepath.IsAbs(tmp) || !strings.HasPrefix(name, containerPrefix) ||
		strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", false
	}
	for _, suffix := range []string{runtimeDepsSuffix, runtimeSuffix, artifactsSuffix} {
		if base, ok := strings.CutSuffix(name, suffix); ok && base != containerPrefix {
			name = base
			break
		}
	}
	return filepath.Join(tmp, name), true
}

// removeUnmounted removes dir unless something is mounted on or below it
// (RemoveAll would then delete files through the mount). A missing dir is
// fine.
func removeUnmounted(dir string) error {
	mounts, err := mountPoints()
	if err != nil {
		return err
	}
	for _, m := range mounts {
		if m == dir || strings.HasPrefix(m, dir+"/") {
			return fmt.Errorf("temp dir %s: %s is mounted there; left alone", dir, m)
		}
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove temp dir: %w", err)
	}
	return nil
}
