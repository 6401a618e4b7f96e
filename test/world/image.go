package world

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/tarball"
	"go.podman.io/image/v5/types"

	"github.com/pys2i/pys2i/imagebuild/layer"
)

// imageSpec describes one OCI image to write from layer tarballs.
type imageSpec struct {
	Ref    string   // name inside the OCI layout, e.g. "python-minimal"
	Layers []string // layer tarball files, lowest first
	Env    []string
	Cmd    []string
	Labels map[string]string
}

// writeLayerFile writes the tree at root (or its difference from lower, when
// lower is set) as an uncompressed layer tarball at dst.
func writeLayerFile(dst, lower, root string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	opt := layer.Options{Exclude: layer.ExcludeDev}
	if lower == "" {
		err = layer.WriteDir(f, root, opt)
	} else {
		err = layer.WriteDiff(f, lower, root, opt)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeOCI adds the image to the OCI layout at dir with containers/image,
// and returns its manifest digest.
func writeOCI(ctx context.Context, dir string, spec imageSpec) (string, error) {
	src, err := tarball.Transport.ParseReference(strings.Join(spec.Layers, ":"))
	if err != nil {
		return "", fmt.Errorf("tarball reference: %w", err)
	}
	created := time.Unix(0, 0).UTC() // the recipe, not the clock, identifies the image
	cfg := imgspecv1.Image{
		Created:  &created,
		Platform: imgspecv1.Platform{OS: "linux", Architecture: "amd64"},
		Config: imgspecv1.ImageConfig{
			Env:        spec.Env,
			Cmd:        spec.Cmd,
			WorkingDir: "/",
			Labels:     spec.Labels,
		},
		History: []imgspecv1.History{{Comment: "pys2i test world"}},
	}
	if err := src.(tarball.ConfigUpdater).ConfigUpdate(cfg, nil); err != nil {
		return "", fmt.Errorf("image config: %w", err)
	}
	dst, err := layout.NewReference(dir, spec.Ref)
	if err != nil {
		return "", fmt.Errorf("oci layout %s: %w", dir, err)
	}
	policy, err := acceptAnything()
	if err != nil {
		return "", err
	}
	defer policy.Destroy()
	// Uncompressed layers keep the world build fast; pushes compress anyway.
	sys := &types.SystemContext{OCIAcceptUncompressedLayers: true}
	raw, err := copy.Image(ctx, policy, dst, src, &copy.Options{
		SourceCtx: sys, DestinationCtx: sys, ReportWriter: io.Discard,
	})
	if err != nil {
		return "", fmt.Errorf("copy to %s: %w", dst.StringWithinTransport(), err)
	}
	d, err := manifest.Digest(raw)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// buildImages turns the two root filesystems into layer files and an OCI
// layout holding both images; python-full shares python-minimal's layer.
func buildImages(ctx context.Context, r Recipe, l Line, base string) (map[string]string, error) {
	minRoot := filepath.Join(base, "rootfs", "minimal")
	fullRoot := filepath.Join(base, "rootfs", "full")
	tmp := filepath.Join(base, "layers.tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	minLayer, fullLayer := filepath.Join(tmp, "minimal.tar"), filepath.Join(tmp, "full-diff.tar")
	if err := writeLayerFile(minLayer, "", minRoot); err != nil {
		return nil, fmt.Errorf("layer of python-minimal: %w", err)
	}
	if err := writeLayerFile(fullLayer, minRoot, fullRoot); err != nil {
		return nil, fmt.Errorf("layer of python-full: %w", err)
	}
	labels := map[string]string{"io.pys2i.test-world.base": r.BaseKey(l), "io.pys2i.test-world.python": l.Python}
	digests := map[string]string{}
	for _, s := range []imageSpec{
		{Ref: "python-minimal", Layers: []string{minLayer}},
		{Ref: "python-full", Layers: []string{minLayer, fullLayer}},
	} {
		s.Env, s.Cmd, s.Labels = r.Env, r.Cmd, labels
		d, err := writeOCI(ctx, filepath.Join(base, "oci"), s)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", s.Ref, err)
		}
		digests[s.Ref] = d
	}
	return digests, nil
}

// acceptAnything is the signature policy for copies between the world's own
// local images, which carry no signatures to check.
func acceptAnything() (*signature.PolicyContext, error) {
	return signature.NewPolicyContext(&signature.Policy{
		Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()},
	})
}
