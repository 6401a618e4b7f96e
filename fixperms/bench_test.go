package fixperms

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// benchTree makes a venv-sized tree: 200 directories of 100 files (a fifth
// of them executable), 20,200 entries in all, umask-022 modes (every entry
// needs g+w, as after pip install).
func benchTree(b *testing.B) (string, []string) {
	b.Helper()
	root := b.TempDir()
	var paths []string
	for d := 0; d < 200; d++ {
		dir := filepath.Join(root, fmt.Sprintf("pkg%03d", d))
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		paths = append(paths, dir)
		for f := 0; f < 100; f++ {
			p := filepath.Join(dir, fmt.Sprintf("mod%03d.py", f))
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				b.Fatal(err)
			}
			paths = append(paths, p)
		}
	}
	return root, paths
}

func dirty(b *testing.B, paths []string) {
	b.Helper()
	b.StopTimer()
	for i, p := range paths {
		mode := os.FileMode(0o644)
		if i%101 == 0 {
			mode = 0o755 // the directories
		} else if i%5 == 0 {
			mode = 0o755
		}
		if err := os.Chmod(p, mode); err != nil {
			b.Fatal(err)
		}
	}
	b.StartTimer()
}

func upstream(b *testing.B, root string) {
	cmd := exec.Command("/bin/sh", "testdata/fix-permissions.sh", root, "-P")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
}

// BenchmarkFix* compare one run over 20,200 entries, when every entry needs
// a change (Dirty) and when none does (Clean), with the upstream
// find -exec script (Find*).
func BenchmarkFixDirty(b *testing.B) {
	root, paths := benchTree(b)
	for b.Loop() {
		dirty(b, paths)
		Fix(root, Options{Follow: Physical, Owner: -1})
	}
}

func BenchmarkFindDirty(b *testing.B) {
	root, paths := benchTree(b)
	for b.Loop() {
		dirty(b, paths)
		upstream(b, root)
	}
}

func BenchmarkFixClean(b *testing.B) {
	root, _ := benchTree(b)
	Fix(root, Options{Follow: Physical, Owner: -1})
	for b.Loop() {
		Fix(root, Options{Follow: Physical, Owner: -1})
	}
}

func BenchmarkFindClean(b *testing.B) {
	root, _ := benchTree(b)
	Fix(root, Options{Follow: Physical, Owner: -1})
	for b.Loop() {
		upstream(b, root)
	}
}
