package commit

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFileLayer(t *testing.T) {
	dir := t.TempDir()
	mtime := time.Unix(1700000000, 5e8)
	files := []File{{Name: "/usr/share/x/sbom/a.json", Data: []byte("{}")}, {Name: "usr/share/x/sbom/b.json", Data: []byte("[1]")}}
	a, err := FileLayer(filepath.Join(dir, "a.tar"), []string{"/usr/share/x", "usr/share/x/sbom/"}, files, mtime)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FileLayer(filepath.Join(dir, "b.tar"), []string{"/usr/share/x", "usr/share/x/sbom/"}, files, mtime)
	if err != nil {
		t.Fatal(err)
	}
	if a.DiffID != b.DiffID || a.Entries != 4 {
		t.Errorf("layers %+v and %+v: want the same bytes, 4 entries", a, b)
	}
	f, err := os.Open(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	want := []struct {
		name string
		mode int64
	}{{"usr/share/x/", 0o755}, {"usr/share/x/sbom/", 0o755}, {"usr/share/x/sbom/a.json", 0o644}, {"usr/share/x/sbom/b.json", 0o644}}
	for _, w := range want {
		h, err := tr.Next()
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != w.name || h.Mode != w.mode || h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("entry %+v, want %s mode %o root-owned at the second", h, w.name, w.mode)
		}
	}
	if _, err := FileLayer(filepath.Join(dir, "c.tar"), []string{"/"}, nil, mtime); err == nil {
		t.Error("a layer adding / itself: no error")
	}
}
