package images

import (
	"context"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"

	"github.com/pys2i/pys2i/imagebuild/images/blobmount"
)

// Remote is an image read where it is, never copied to a store: an
// --in-place build's builder. Ref is pinned to the manifest read (by
// digest for a registry), so that every later read sees the same image.
type Remote struct {
	Ref    types.ImageReference
	Source types.ImageSource // open on Ref; Close releases it
	Config *v1.Image
	Digest string // the manifest's
	// Named is the registry repository, nil for other transports.
	Named reference.Named
}

// Close releases the image source.
func (r *Remote) Close() error {
	if r == nil || r.Source == nil {
		return nil
	}
	return r.Source.Close()
}

// RemoteRef parses an image name for a mode without a store: a transport
// reference, else a registry name (docker://).
func RemoteRef(name string) (types.ImageReference, error) {
	if strings.HasPrefix(name, istorage.Transport.Name()+":") {
		return nil, fmt.Errorf("image %q: there is no local store in this mode: name a registry image or an oci: layout", name)
	}
	if hasTransport(name) {
		return ParseRef(name)
	}
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return nil, fmt.Errorf("image name %q: %w", name, err)
	}
	ref, err := docker.NewReference(reference.TagNameOnly(named))
	if err != nil {
		return nil, fmt.Errorf("image name %q: %w", name, err)
	}
	return ref, nil
}

// OpenRemote reads name's manifest and config where it is and pins it: a
// registry image is then read by digest, a tag moved meanwhile changes
// nothing. No signature policy applies: this is the image the build runs
// in, which the cluster pulled (and verified, by its own policy) already;
// nothing of it is pulled here, and a pod has no policy.json of its own.
func (im *Images) OpenRemote(ctx context.Context, name string) (*Remote, error) {
	ref, err := RemoteRef(name)
	if err != nil {
		return nil, err
	}
	cfg, dgst, err := ReadConfig(ctx, im.sys, ref)
	if err != nil {
		return nil, err
	}
	r := &Remote{Ref: ref, Config: cfg, Digest: dgst}
	if dr := ref.DockerReference(); dr != nil && ref.Transport().Name() == docker.Transport.Name() {
		pinned, err := reference.WithDigest(reference.TrimNamed(dr), digest.Digest(dgst))
		if err != nil {
			return nil, fmt.Errorf("pin %s: %w", refString(ref), err)
		}
		if r.Ref, err = docker.NewReference(pinned); err != nil {
			return nil, fmt.Errorf("pin %s: %w", refString(ref), err)
		}
		r.Named = reference.TrimNamed(dr)
	}
	if r.Source, err = r.Ref.NewImageSource(ctx, im.sys); err != nil {
		return nil, fmt.Errorf("open %s: %w", refString(r.Ref), err)
	}
	return r, nil
}

// MountBlobs makes from's layer blobs present in dst's repository before
// an image that uses them is written there: a registry mounts them from
// from's repository when both are on it, so that they are never read and
// sent again. Nothing is done for other transports or registries; a blob
// that cannot be mounted is sent by the write. It returns how many blobs
// dst has.
func (im *Images) MountBlobs(ctx context.Context, dst types.ImageReference, from *Remote, blobs []types.BlobInfo) (int, error) {
	dr := dst.DockerReference()
	if from.Named == nil || dr == nil || dst.Transport().Name() != docker.Transport.Name() ||
		reference.Domain(dr) != reference.Domain(from.Named) {
		return 0, nil
	}
	var ds []digest.Digest
	for _, b := range blobs {
		ds = append(ds, b.Digest)
	}
	res, err := blobmount.Mount(ctx, im.sys, dr, from.Named, ds)
	if err != nil {
		return res.Present, fmt.Errorf("mount the builder's layers into %s: %w", refString(dst), err)
	}
	return res.Present, nil
}
