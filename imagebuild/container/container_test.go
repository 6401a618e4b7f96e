package container

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.podman.io/storage"
	"go.podman.io/storage/pkg/reexec"
)

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	os.Exit(m.Run())
}

// newStore is a vfs store in a temp dir holding one image with /etc/base.
func newStore(t *testing.T) (storage.Store, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("container tests need root (a containers/storage store); run go test as root")
	}
	dir := t.TempDir()
	s, err := storage.GetStore(storage.StoreOptions{
		GraphRoot: filepath.Join(dir, "graph"), RunRoot: filepath.Join(dir, "run"), GraphDriverName: "vfs",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(true) })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "etc/base", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4})
	tw.Write([]byte("base"))
	tw.Close()
	layer, _, err := s.PutLayer("", "", nil, "", false, nil, &buf)
	if err != nil {
		t.Fatal(err)
	}
	img, err := s.CreateImage("", []string{"localhost/test:1"}, layer.ID, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, img.ID
}

func TestContainer(t *testing.T) {
	s, image := newStore(t)
	c, err := Create(s, image, "test-build")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(c.Root, "etc/base")); err != nil || string(b) != "base" {
		t.Fatalf("the image is not in the container's root: %q %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(c.Root, "etc/new"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(c.Root, "etc/base")); err != nil {
		t.Fatal(err)
	}
	if err := c.Unmount(); err != nil {
		t.Fatal(err)
	}
	if err := c.Unmount(); err != nil {
		t.Errorf("second Unmount: %v", err)
	}
	names := diffNames(t, c)
	for _, want := range []string{"etc/new", "etc/.wh.base"} {
		if !slices.Contains(names, want) {
			t.Errorf("diff lacks %s: %v", want, names)
		}
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(); err != nil {
		t.Errorf("second Remove: %v", err)
	}
	ctrs, err := s.Containers()
	if err != nil || len(ctrs) != 0 {
		t.Errorf("containers left: %v %v", ctrs, err)
	}
	layers, err := s.Layers()
	if err != nil || len(layers) != 1 {
		t.Errorf("layers: %d (%v), want the image's only", len(layers), err)
	}
}

func TestCreateUnknownImage(t *testing.T) {
	s, _ := newStore(t)
	if _, err := Create(s, "0000000000000000000000000000000000000000000000000000000000000000", ""); err == nil {
		t.Error("no error")
	}
	if ctrs, _ := s.Containers(); len(ctrs) != 0 {
		t.Errorf("containers left: %v", ctrs)
	}
}

// diffNames lists the entries of c's changes.
func diffNames(t *testing.T, c *Container) []string {
	t.Helper()
	rc, err := c.Diff()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var names []string
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
	}
}
