package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/pys2i/pys2i/test/world"
)

// buildStores are the build tests' own containers/storage stores, by
// top-level test name. A build test checks that its builds leave nothing
// in the store; in a store of its own that check sees only its builds, so
// the build tests run in parallel with each other and with the image tests.
var buildStores sync.Map // test name -> world.Conf

// buildIsolate makes t a parallel test with a store of its own: its own
// graphroot and runroot, with the world's store as a read-only additional
// image store (the builders and base images are found there, nothing is
// copied). Every podman and pys2i command of the test uses it (buildConf).
func buildIsolate(t *testing.T) {
	t.Helper()
	t.Parallel()
	dir, err := os.MkdirTemp("", "pys2i-buildstore-")
	if err != nil {
		t.Fatal(err)
	}
	conf := w.Conf
	conf.Storage = filepath.Join(dir, "storage.conf")
	body := fmt.Sprintf(`[storage]
driver = "overlay"
graphroot = %q
runroot = %q
[storage.options]
additionalimagestores = [%q]
[storage.options.overlay]
skip_mount_home = "true"
`, filepath.Join(dir, "graph"), filepath.Join(dir, "run"), graphRootOf(t, w.Conf.Storage))
	if err := os.WriteFile(conf.Storage, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	buildStores.Store(t.Name(), conf)
	t.Cleanup(func() {
		buildStores.Delete(t.Name())
		if err := unmountUnder(dir); err != nil {
			t.Errorf("build store: %v", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("build store: %v", err)
		}
	})
}

// buildConf is the podman configuration of t's build store.
func buildConf(t *testing.T) world.Conf {
	t.Helper()
	name, _, _ := strings.Cut(t.Name(), "/")
	c, ok := buildStores.Load(name)
	if !ok {
		t.Fatalf("%s uses the build helpers without buildIsolate(t)", name)
	}
	return c.(world.Conf)
}

var graphRootRE = regexp.MustCompile(`(?m)^graphroot\s*=\s*"([^"]+)"`)

// graphRootOf is the graphroot a storage.conf names.
func graphRootOf(t *testing.T, storageConf string) string {
	t.Helper()
	data, err := os.ReadFile(storageConf)
	if err != nil {
		t.Fatal(err)
	}
	m := graphRootRE.FindSubmatch(data)
	if m == nil {
		t.Fatalf("no graphroot in %s", storageConf)
	}
	return string(m[1])
}

// unmountUnder detaches what is mounted under dir, deepest first: the
// overlay driver keeps its layer directory bind-mounted on itself.
func unmountUnder(dir string) error {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var mps []string
	for _, line := range strings.Split(string(mi), "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			mps = append(mps, f[4])
		}
	}
	slices.SortFunc(mps, func(a, b string) int { return len(b) - len(a) })
	for _, mp := range mps {
		if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL {
			return fmt.Errorf("unmount %s: %w", mp, err)
		}
	}
	return nil
}
