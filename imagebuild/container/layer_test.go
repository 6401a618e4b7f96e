package container

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A container on a mid-image layer sees that layer and its parents, not the
// layers above; its diff is against that layer; Remove deletes it.
func TestOnLayer(t *testing.T) {
	s, image := newStore(t)
	img, err := s.Image(image)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "etc/deps", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4})
	tw.Write([]byte("deps"))
	tw.Close()
	deps, _, err := s.PutLayer("", img.TopLayer, nil, "", false, nil, &buf)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	tw = tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "etc/app", Typeflag: tar.TypeReg, Mode: 0o644, Size: 3})
	tw.Write([]byte("app"))
	tw.Close()
	app, _, err := s.PutLayer("", deps.ID, nil, "", false, nil, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateImage("", []string{"localhost/test:2"}, app.ID, "", nil); err != nil {
		t.Fatal(err)
	}

	c, err := OnLayer(s, deps.ID, "test-on-layer")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"etc/base": true, "etc/deps": true, "etc/app": false} {
		if _, err := os.Stat(filepath.Join(c.Root, name)); (err == nil) != want {
			t.Errorf("%s present: %v, want %v", name, err == nil, want)
		}
	}
	if err := os.WriteFile(filepath.Join(c.Root, "etc/new"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.Unmount(); err != nil {
		t.Fatal(err)
	}
	names := diffNames(t, c)
	if !slices.Contains(names, "etc/new") || slices.Contains(names, "etc/deps") {
		t.Errorf("diff: %v", names)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(); err != nil {
		t.Errorf("second Remove: %v", err)
	}
	if layers, _ := s.Layers(); len(layers) != 3 {
		t.Errorf("%d layers, want the image's 3", len(layers))
	}
}

func TestOnUnknownLayer(t *testing.T) {
	s, _ := newStore(t)
	if _, err := OnLayer(s, "0000000000000000000000000000000000000000000000000000000000000000", ""); err == nil {
		t.Error("no error")
	}
	if layers, _ := s.Layers(); len(layers) != 1 {
		t.Errorf("%d layers left, want 1", len(layers))
	}
}
