package commit

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
)

// fakeBase is a builder image source with layers as a store serves them.
type fakeBase struct {
	types.ImageSource
	infos []types.BlobInfo
	got   []digest.Digest
}

func (f *fakeBase) LayerInfosForCopy(context.Context, *digest.Digest) ([]types.BlobInfo, error) {
	return f.infos, nil
}

func (f *fakeBase) GetBlob(_ context.Context, info types.BlobInfo, _ types.BlobInfoCache) (io.ReadCloser, int64, error) {
	f.got = append(f.got, info.Digest)
	return io.NopCloser(strings.NewReader("base")), 4, nil
}

func testLayer(t *testing.T, body string) Layer {
	t.Helper()
	p := filepath.Join(t.TempDir(), "l.tar")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return Layer{Path: p, DiffID: digest.FromString(body), Size: int64(len(body))}
}

func TestImage(t *testing.T) {
	ctx := context.Background()
	b1, b2 := digest.FromString("b1"), digest.FromString("b2")
	base := &fakeBase{infos: []types.BlobInfo{
		{Digest: b1, Size: 10, MediaType: manifest.DockerV2SchemaLayerMediaTypeUncompressed},
		{Digest: b2, Size: 20, MediaType: v1.MediaTypeImageLayer},
	}}
	cfg := v1.Image{Config: v1.ImageConfig{Cmd: []string{"/run"}}, RootFS: v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{b1, b2}},
		History: []v1.History{{CreatedBy: "base"}}}
	outside, home := testLayer(t, "outside"), testLayer(t, "home")
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ref, err := Image(ctx, Input{Base: base, Config: cfg, Annotations: map[string]string{v1.AnnotationBaseImageName: "b"},
		Outside: outside, Home: home, HomeDir: "/opt/app-root/src", Created: created})
	if err != nil {
		t.Fatal(err)
	}
	src, err := ref.NewImageSource(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, mt, err := src.GetManifest(ctx, nil)
	if err != nil || mt != v1.MediaTypeImageManifest {
		t.Fatalf("manifest: %v, %q", err, mt)
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	wantLayers := []v1.Descriptor{
		{MediaType: v1.MediaTypeImageLayer, Digest: b1, Size: 10},
		{MediaType: v1.MediaTypeImageLayer, Digest: b2, Size: 20},
		{MediaType: v1.MediaTypeImageLayer, Digest: outside.DiffID, Size: outside.Size},
		{MediaType: v1.MediaTypeImageLayer, Digest: home.DiffID, Size: home.Size},
	}
	if len(m.Layers) != len(wantLayers) {
		t.Fatalf("layers = %+v", m.Layers)
	}
	for i, l := range wantLayers {
		if m.Layers[i].MediaType != l.MediaType || m.Layers[i].Digest != l.Digest || m.Layers[i].Size != l.Size {
			t.Errorf("layer %d = %+v, want %+v", i, m.Layers[i], l)
		}
	}
	if m.Annotations[v1.AnnotationBaseImageName] != "b" {
		t.Errorf("annotations = %v", m.Annotations)
	}

	rc, _, err := src.GetBlob(ctx, types.BlobInfo{Digest: m.Config.Digest}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := io.ReadAll(rc)
	rc.Close()
	if digest.FromBytes(cb) != m.Config.Digest || int64(len(cb)) != m.Config.Size {
		t.Error("config blob does not match its descriptor")
	}
	var got v1.Image
	if err := json.Unmarshal(cb, &got); err != nil {
		t.Fatal(err)
	}
	if want := []digest.Digest{b1, b2, outside.DiffID, home.DiffID}; !equal(got.RootFS.DiffIDs, want) {
		t.Errorf("diff IDs = %v, want %v", got.RootFS.DiffIDs, want)
	}
	if len(got.History) != 3 || got.History[1].CreatedBy != "pys2i build: assemble (outside /opt/app-root/src)" ||
		got.History[2].CreatedBy != "pys2i build: assemble (/opt/app-root/src)" || !got.History[2].Created.Equal(created) {
		t.Errorf("history = %+v", got.History)
	}
	if len(cfg.RootFS.DiffIDs) != 2 || len(cfg.History) != 1 {
		t.Error("Image changed its input config")
	}

	rc, _, err = src.GetBlob(ctx, types.BlobInfo{Digest: home.DiffID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(rc)
	rc.Close()
	if string(hb) != "home" {
		t.Errorf("home layer blob = %q", hb)
	}
	if _, _, err := src.GetBlob(ctx, types.BlobInfo{Digest: b2}, nil); err != nil || len(base.got) != 1 || base.got[0] != b2 {
		t.Errorf("a base layer is not read from the base: %v %v", err, base.got)
	}
	if _, err := ref.NewImageDestination(ctx, nil); err == nil {
		t.Error("the built image accepts writes")
	}

	cfg.RootFS.DiffIDs = cfg.RootFS.DiffIDs[:1]
	if _, err := Image(ctx, Input{Base: base, Config: cfg, Outside: outside, Home: home}); err == nil {
		t.Error("a config that does not match the layers: no error")
	}
}

func equal(a, b []digest.Digest) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOCILayerType(t *testing.T) {
	tests := map[string]string{
		manifest.DockerV2Schema2LayerMediaType:            v1.MediaTypeImageLayerGzip,
		manifest.DockerV2SchemaLayerMediaTypeUncompressed: v1.MediaTypeImageLayer,
		"":                         v1.MediaTypeImageLayer,
		v1.MediaTypeImageLayerZstd: v1.MediaTypeImageLayerZstd,
		v1.MediaTypeImageLayerGzip: v1.MediaTypeImageLayerGzip,
	}
	for in, want := range tests {
		if got := ociLayerType(in); got != want {
			t.Errorf("ociLayerType(%q) = %q, want %q", in, got, want)
		}
	}
}
