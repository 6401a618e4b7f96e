package images

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// putLayer adds a layer holding one file of body on parent.
func putLayer(t *testing.T, s storage.Store, parent, body string) *storage.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
	tw.Write([]byte(body))
	tw.Close()
	l, _, err := s.PutLayer("", parent, nil, "", false, nil, &buf)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// A failed write's layers go, children first; what was there before, a
// layer of other content (another writer's) and a layer an image uses stay.
func TestStoreWriteRollback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root (a containers/storage store); run go test as root")
	}
	dir := t.TempDir()
	s, err := storage.GetStore(storage.StoreOptions{
		GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run"), GraphDriverName: "vfs",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(true) })
	base := putLayer(t, s, "", "base")
	im := &Images{store: s}
	out, err := istorage.Transport.ParseStoreReference(s, "localhost/out:1")
	if err != nil {
		t.Fatal(err)
	}
	sw, err := im.beginStoreWrite(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	// What the write committed before it failed, a layer of another
	// writer meanwhile, and one of the write's diffs that an image uses.
	l1 := putLayer(t, s, base.ID, "deps")
	l2 := putLayer(t, s, l1.ID, "home")
	other := putLayer(t, s, base.ID, "another writer's")
	kept := putLayer(t, s, base.ID, "used")
	if _, err := s.CreateImage("", []string{"localhost/kept:1"}, kept.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	ids := []digest.Digest{l1.UncompressedDigest, l2.UncompressedDigest, kept.UncompressedDigest}
	for _, d := range ids {
		sw.diffIDs[d] = true
	}
	if err := sw.rollback(); err != nil {
		t.Fatal(err)
	}
	layers, err := s.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, l := range layers {
		left = append(left, l.ID)
	}
	for _, l := range []*storage.Layer{base, other, kept} {
		if !slices.Contains(left, l.ID) {
			t.Errorf("layer %.12s was removed", l.ID)
		}
	}
	for _, l := range []*storage.Layer{l1, l2} {
		if slices.Contains(left, l.ID) {
			t.Errorf("layer %.12s of the failed write was left", l.ID)
		}
	}
	var none *storeWrite
	if err := none.rollback(); err != nil {
		t.Errorf("nil rollback (not a store write): %v", err)
	}
}
