// Package commit turns a build container's changes into a new image: the
// changes split into two layers (what assemble put outside $HOME, which
// changes only with the dependencies, and $HOME, the application), stacked
// on the builder's layers, with a config and manifest built here, served as
// a containers/image source so copy.Image can write it to any transport.
package commit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/types"
)

const mediaTypeManifest = v1.MediaTypeImageManifest

// Input is the committed image's parts.
type Input struct {
	// Base reads the builder image: its manifest and layers.
	Base types.ImageSource
	// Config is the new image's config (imageconfig.Build): its RootFS and
	// History are still the builder's; the new layers are appended here.
	Config      v1.Image
	Annotations map[string]string
	// Outside and Home are the layers from Split, in that order.
	Outside, Home Layer
	HomeDir       string // for the history entries
	Created       time.Time
	// Deps, if set, is a previous build's dependency layer reused as it is
	// (served by Base's store): it takes Outside's place, and Outside is
	// added after it only if it has entries.
	Deps *Layer
	// Generated, if set, is the layer of files pys2i writes itself (the
	// SBOM), added last.
	Generated *Layer
}

// NewDiffIDs are the diffIDs of the layers the committed image adds to
// its base, in order.
func (in Input) NewDiffIDs() []digest.Digest {
	var ids []digest.Digest
	for _, l := range newLayers(in) {
		ids = append(ids, l.DiffID)
	}
	return ids
}

// Image returns a reference to the committed image, readable as long as
// in.Base is open and the layer files exist.
func Image(ctx context.Context, in Input) (types.ImageReference, error) {
	base, err := BaseLayers(ctx, in.Base)
	if err != nil {
		return nil, err
	}
	cfg := in.Config
	if len(base) != len(cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("commit: the builder has %d layers but its config lists %d", len(base), len(cfg.RootFS.DiffIDs))
	}
	cfg.RootFS.Type = "layers"
	added := newLayers(in)
	cfg.RootFS.DiffIDs = append([]digest.Digest{}, cfg.RootFS.DiffIDs...)
	cfg.History = append([]v1.History{}, cfg.History...)
	for _, l := range added {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.DiffID)
		cfg.History = append(cfg.History, l.history)
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("commit: encode config: %w", err)
	}
	m := v1.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   mediaTypeManifest,
		Config:      v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: digest.FromBytes(config), Size: int64(len(config))},
		Annotations: in.Annotations,
	}
	for _, b := range base {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: ociLayerType(b.MediaType), Digest: b.Digest, Size: b.Size, URLs: b.URLs, Annotations: b.Annotations})
	}
	files := map[digest.Digest]string{}
	for _, l := range added {
		d := v1.Descriptor{MediaType: v1.MediaTypeImageLayer, Digest: l.DiffID, Size: l.Size}
		if l.Stored != nil {
			d = *l.Stored
			d.MediaType = ociLayerType(d.MediaType)
		}
		m.Layers = append(m.Layers, d)
		if l.Path != "" {
			files[d.Digest] = l.Path
		}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("commit: encode manifest: %w", err)
	}
	src := &imageSource{
		manifest: raw, config: config, configD: m.Config.Digest, base: in.Base,
		layers: files,
	}
	src.ref = &imageRef{src: src}
	return src.ref, nil
}

// BaseLayers are an image's layers as its source serves them (as a copy
// reads them): a store serves them uncompressed, under digests other than
// its manifest's, and says so through LayerInfosForCopy.
func BaseLayers(ctx context.Context, src types.ImageSource) ([]types.BlobInfo, error) {
	infos, err := src.LayerInfosForCopy(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("commit: builder layers: %w", err)
	}
	if infos != nil {
		return infos, nil
	}
	raw, mt, err := src.GetManifest(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("commit: builder manifest: %w", err)
	}
	man, err := manifest.FromBlob(raw, mt)
	if err != nil {
		return nil, fmt.Errorf("commit: builder manifest: %w", err)
	}
	for _, l := range man.LayerInfos() {
		infos = append(infos, l.BlobInfo)
	}
	return infos, nil
}

// ociLayerType maps a Docker layer media type to its OCI equal.
func ociLayerType(mt string) string {
	switch mt {
	case manifest.DockerV2Schema2LayerMediaType:
		return v1.MediaTypeImageLayerGzip
	case manifest.DockerV2SchemaLayerMediaTypeUncompressed, "":
		return v1.MediaTypeImageLayer
	case manifest.DockerV2Schema2ForeignLayerMediaTypeGzip:
		return v1.MediaTypeImageLayerNonDistributableGzip //nolint:staticcheck // the only OCI equal
	case manifest.DockerV2Schema2ForeignLayerMediaType:
		return v1.MediaTypeImageLayerNonDistributable //nolint:staticcheck // the only OCI equal
	}
	return mt
}
