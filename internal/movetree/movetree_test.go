package movetree

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Move across file systems (tmpfs /dev/shm to the test's temp dir) takes the
// copy path: contents, modes, times and symlinks arrive; the source is gone.
func TestMoveAcrossFileSystems(t *testing.T) {
	shm, err := os.MkdirTemp("/dev/shm", "movetree-")
	if err != nil {
		t.Fatalf("need a tmpfs at /dev/shm: %v", err)
	}
	defer os.RemoveAll(shm)
	src := filepath.Join(shm, "src")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "sub", "f"), []byte("data"), 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Unix(1_000_000_000, 0)
	if err := os.Chtimes(filepath.Join(src, "sub", "f"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	if err := Move(src, dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(src); !os.IsNotExist(err) {
		t.Errorf("source still there: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dst, "sub", "f"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(old) {
		t.Errorf("file mode %v time %v, want 0640 %v", fi.Mode().Perm(), fi.ModTime(), old)
	}
	if di, _ := os.Stat(filepath.Join(dst, "sub")); di == nil || di.Mode().Perm() != 0o750 {
		t.Errorf("dir mode: %v", di)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "/etc/passwd" {
		t.Errorf("symlink: %q %v (must stay a link, not be followed)", l, err)
	}
	// An existing directory is not replaced (os.Rename refuses it).
	src2 := filepath.Join(shm, "src2")
	if err := os.Mkdir(src2, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Move(src2, dst); err == nil {
		t.Error("moved onto an existing directory")
	}
}
