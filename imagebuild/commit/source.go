package commit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/types"
)

// imageSource serves the committed image to copy.Image: the manifest and
// config built here, the new layers from files, and the base layers from the
// builder's own source, so a destination that has them (the store the
// builder is in) reuses them without copying.
type imageSource struct {
	ref      *imageRef
	manifest []byte
	config   []byte
	configD  digest.Digest
	layers   map[digest.Digest]string // new layer digest -> file
	base     types.ImageSource
}

func (s *imageSource) Reference() types.ImageReference { return s.ref }
func (s *imageSource) Close() error                    { return nil } // base is the caller's

func (s *imageSource) GetManifest(_ context.Context, instance *digest.Digest) ([]byte, string, error) {
	if instance != nil {
		return nil, "", errors.New("commit: the image is not a manifest list")
	}
	return s.manifest, mediaTypeManifest, nil
}

func (s *imageSource) GetBlob(ctx context.Context, info types.BlobInfo, cache types.BlobInfoCache) (io.ReadCloser, int64, error) {
	if info.Digest == s.configD {
		return io.NopCloser(bytes.NewReader(s.config)), int64(len(s.config)), nil
	}
	if p, ok := s.layers[info.Digest]; ok {
		f, err := os.Open(p)
		if err != nil {
			return nil, 0, fmt.Errorf("commit: open layer: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("commit: open layer: %w", err)
		}
		return f, fi.Size(), nil
	}
	return s.base.GetBlob(ctx, info, cache)
}

func (s *imageSource) HasThreadSafeGetBlob() bool { return false }

func (s *imageSource) GetSignatures(context.Context, *digest.Digest) ([][]byte, error) {
	return nil, nil // a new image: the builder's signatures do not apply
}

func (s *imageSource) LayerInfosForCopy(context.Context, *digest.Digest) ([]types.BlobInfo, error) {
	return nil, nil // the manifest's are right
}

// imageRef is the reference of the one imageSource; it exists because
// copy.Image takes references. It cannot be parsed or written to.
type imageRef struct{ src *imageSource }

func (r *imageRef) Transport() types.ImageTransport { return transport{} }
func (r *imageRef) StringWithinTransport() string   { return "(the built image)" }
func (r *imageRef) DockerReference() reference.Named {
	return nil
}
func (r *imageRef) PolicyConfigurationIdentity() string     { return "" }
func (r *imageRef) PolicyConfigurationNamespaces() []string { return nil }

func (r *imageRef) NewImage(context.Context, *types.SystemContext) (types.ImageCloser, error) {
	return nil, errors.New("commit: the built image can only be copied")
}

func (r *imageRef) NewImageSource(context.Context, *types.SystemContext) (types.ImageSource, error) {
	return r.src, nil
}

func (r *imageRef) NewImageDestination(context.Context, *types.SystemContext) (types.ImageDestination, error) {
	return nil, errors.New("commit: cannot write to the image being built")
}

func (r *imageRef) DeleteImage(context.Context, *types.SystemContext) error {
	return errors.New("commit: cannot delete the image being built")
}

// transport names the built image's origin in copy.Image's messages.
type transport struct{}

func (transport) Name() string { return "pys2i-build" }
func (transport) ParseReference(string) (types.ImageReference, error) {
	return nil, errors.New("pys2i-build: references cannot be parsed")
}
func (transport) ValidatePolicyConfigurationScope(string) error { return nil }
