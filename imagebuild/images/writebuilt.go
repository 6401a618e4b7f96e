package images

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
)

// storeWrite remembers what the store held before a copy into it, so that
// a copy that fails halfway (a signal, a full disk) can take back the layers
// it had committed before the image record that would have used them:
// c/image commits layers as they arrive and names the image last.
type storeWrite struct {
	store   storage.Store
	before  map[string]bool
	diffIDs map[digest.Digest]bool
}

// Written is what WriteBuilt wrote.
type Written struct {
	Digest digest.Digest // of the manifest
	// Size is the image's size where it was written: the manifest, the
	// config and the layers as stored (compressed, in a registry).
	Size int64
	// Manifest describes the manifest written (media type, digest, its
	// own size): what an artifact attached to the image names as subject.
	Manifest v1.Descriptor
}

// WriteBuilt copies an image built here (its layers' diffIDs given) to
// dst. The signature policy accepts it: policies are for images from
// elsewhere. Into the local store, a copy that fails takes back the layers
// it had committed.
func (im *Images) WriteBuilt(ctx context.Context, dst, src types.ImageReference, diffIDs []digest.Digest) (Written, error) {
	accept := &signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}}
	sw, err := im.beginStoreWrite(dst, diffIDs)
	if err != nil {
		return Written{}, fmt.Errorf("write to %s: %w", refString(dst), err)
	}
	raw, err := im.Copy(ctx, dst, src, accept)
	if err != nil {
		return Written{}, errors.Join(err, sw.rollback())
	}
	return written(raw)
}

// written describes the manifest a copy wrote.
func written(raw []byte) (Written, error) {
	m, err := manifest.FromBlob(raw, manifest.GuessMIMEType(raw))
	if err != nil {
		return Written{}, fmt.Errorf("the manifest written: %w", err)
	}
	mt := manifest.GuessMIMEType(raw)
	w := Written{Digest: digest.FromBytes(raw), Size: int64(len(raw)) + m.ConfigInfo().Size,
		Manifest: v1.Descriptor{MediaType: mt, Digest: digest.FromBytes(raw), Size: int64(len(raw))}}
	for _, l := range m.LayerInfos() {
		w.Size += l.Size
	}
	return w, nil
}

func (im *Images) beginStoreWrite(dst types.ImageReference, diffIDs []digest.Digest) (*storeWrite, error) {
	if dst.Transport().Name() != "containers-storage" {
		return nil, nil
	}
	s, err := im.Store()
	if err != nil {
		return nil, err
	}
	layers, err := s.Layers()
	if err != nil {
		return nil, fmt.Errorf("list the store's layers: %w", err)
	}
	w := &storeWrite{store: s, before: map[string]bool{}, diffIDs: map[digest.Digest]bool{}}
	for _, l := range layers {
		w.before[l.ID] = true
	}
	for _, d := range diffIDs {
		w.diffIDs[d] = true
	}
	return w, nil
}

// rollback deletes the layers the failed copy left: new since it began,
// holding one of the image's diffs, and used by no image and no container
// (so another writer's layer, of other content, is never touched).
func (w *storeWrite) rollback() error {
	if w == nil {
		return nil
	}
	for {
		orphans, err := w.orphans()
		if err != nil || len(orphans) == 0 {
			return err
		}
		var errs []error
		deleted := 0
		for _, id := range orphans {
			if err := w.store.DeleteLayer(id); err != nil {
				errs = append(errs, err)
				continue
			}
			deleted++
		}
		if deleted == 0 { // children first: a pass that deletes nothing is the end
			return fmt.Errorf("remove the layers of the failed write: %w", errors.Join(errs...))
		}
	}
}

// orphans are the leaves among the layers the failed copy left.
func (w *storeWrite) orphans() ([]string, error) {
	layers, err := w.store.Layers()
	if err != nil {
		return nil, err
	}
	images, err := w.store.Images()
	if err != nil {
		return nil, err
	}
	containers, err := w.store.Containers()
	if err != nil {
		return nil, err
	}
	parent := map[string]string{}
	for _, l := range layers {
		parent[l.ID] = l.Parent
	}
	used := map[string]bool{}
	mark := func(id string) {
		for ; id != "" && !used[id]; id = parent[id] {
			used[id] = true
		}
	}
	for _, img := range images {
		mark(img.TopLayer)
		for _, id := range img.MappedTopLayers {
			mark(id)
		}
	}
	for _, c := range containers {
		mark(c.LayerID)
	}
	hasChild := map[string]bool{}
	for _, l := range layers {
		hasChild[l.Parent] = true
	}
	var out []string
	for _, l := range layers {
		if !w.before[l.ID] && !used[l.ID] && !hasChild[l.ID] && w.diffIDs[l.UncompressedDigest] {
			out = append(out, l.ID)
		}
	}
	return out, nil
}
