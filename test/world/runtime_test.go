package world

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRuntimeKey(t *testing.T) {
	r, err := DefaultRecipe()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range r.Lines {
		if len(l.Runtime) == 0 {
			t.Fatalf("line %s has no runtime packages", l.Python)
		}
		changed := l
		changed.Runtime = append(append([]string(nil), l.Runtime...), "curl")
		if r.RuntimeKey(changed) == r.RuntimeKey(l) {
			t.Error("changing the runtime packages kept the runtime key")
		}
		if r.BaseKey(changed) != r.BaseKey(l) {
			t.Error("changing the runtime packages changed the base key: every world would be rebuilt")
		}
		base := r
		base.Full = append(append([]string(nil), r.Full...), "vim")
		if base.RuntimeKey(l) == r.RuntimeKey(l) {
			t.Error("changing the base kept the runtime key")
		}
	}
}

// A runtime part whose apt install fails leaves no cache and no temporary
// directory; it is built on the finished world's base (make world).
func TestRuntimePartFailureLeavesNoCache(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("world build tests need root (chroot, apt)")
	}
	m, err := Load(DefaultRoot())
	if err != nil {
		t.Fatal(err)
	}
	r, err := DefaultRecipe()
	if err != nil {
		t.Fatal(err)
	}
	l := r.Primary()
	l.Runtime = []string{"pys2i-no-such-package"}
	root := t.TempDir()
	var log strings.Builder
	b := &Builder{Root: root, Mirror: DefaultMirror(), Recipe: r, Log: &log}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, err = b.runtimePart(ctx, l, filepath.Join(m.Root, "base-"+m.BaseKey), map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "step install python-runtime packages") || !strings.Contains(err.Error(), "pys2i-no-such-package") {
		t.Fatalf("error %v: want the step and the package named", err)
	}
	for _, pattern := range []string{"runtime-*", ".tmp-*"} {
		if got, _ := filepath.Glob(filepath.Join(root, pattern)); len(got) > 0 {
			t.Errorf("failed build left %v", got)
		}
	}
}
