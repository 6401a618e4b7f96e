// Package referrers attaches documents (SBOMs) to an image in a registry as
// OCI 1.1 artifacts, and finds and reads them again: each document is an
// image manifest with an artifactType, the empty config, the document as
// its one layer and the image as its subject. Registries with the
// referrers API list them by themselves; for the others the distribution
// spec's referrers tag (sha256-<hex> of the image's digest) holds the list,
// kept by the client, as cosign, oras and go-containerregistry read it.
package referrers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/types"

	"github.com/pys2i/pys2i/imagebuild/images/registryapi"
)

// maxArtifact bounds an artifact's document read back by Fetch.
const maxArtifact = 512 << 20

// Artifact is one document to attach.
type Artifact struct {
	ArtifactType string // its media type, also the manifest's artifactType
	Data         []byte
	// Annotations go on the artifact manifest and its referrers entry.
	// org.opencontainers.image.created belongs here only if the caller
	// wants it: a time would make every attach a new manifest.
	Annotations map[string]string
}

// Attach pushes each artifact to repo as a manifest whose subject is the
// image subject (its manifest's media type, digest and size), and makes
// them discoverable: on a registry without the referrers API, by adding
// them to the referrers tag's index. It returns the artifacts' referrers
// descriptors in the order given. Attaching the same artifacts again
// changes nothing.
func Attach(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject v1.Descriptor, arts []Artifact) ([]v1.Descriptor, error) {
	where := repo.Name() + "@" + subject.Digest.String()
	descs, err := attach(ctx, sys, repo, subject, arts)
	if err != nil {
		return nil, fmt.Errorf("attach artifacts to %s: %w", where, err)
	}
	return descs, nil
}

func attach(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject v1.Descriptor, arts []Artifact) ([]v1.Descriptor, error) {
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	manifests := make([][]byte, len(arts))
	for i, a := range arts {
		if err := checkArtifact(a); err != nil {
			return nil, err
		}
		raw, err := artifactManifest(subject, a)
		if err != nil {
			return nil, err
		}
		manifests[i] = raw
	}
	if len(arts) == 0 {
		return nil, nil
	}
	path := reference.Path(repo)
	c, err := registryapi.New(ctx, sys, reference.Domain(repo), registryapi.Push(path))
	if err != nil {
		return nil, err
	}
	if _, err := c.PutBlob(ctx, path, emptyConfig); err != nil {
		return nil, err
	}
	descs := make([]v1.Descriptor, len(arts))
	handled := false // the registry said it lists them (OCI-Subject)
	for i, a := range arts {
		if _, err := c.PutBlob(ctx, path, a.Data); err != nil {
			return nil, err
		}
		descs[i] = referrerDescriptor(manifests[i], a)
		_, subj, err := c.PutManifest(ctx, path, descs[i].Digest.String(), v1.MediaTypeImageManifest, manifests[i])
		if err != nil {
			return nil, err
		}
		handled = handled || subj == subject.Digest.String()
	}
	if handled {
		return descs, nil
	}
	if _, ok, err := c.Referrers(ctx, path, subject.Digest, ""); err != nil || ok {
		return descs, err
	}
	return descs, addToTag(ctx, c, path, subject.Digest, descs)
}

// addToTag adds descs to the subject's referrers tag: read (a missing tag
// is an empty list), merged, written back if it changed.
func addToTag(ctx context.Context, c *registryapi.Client, path string, subject digest.Digest, descs []v1.Descriptor) error {
	tag := FallbackTag(subject)
	idx, err := readTag(ctx, c, path, subject)
	if err != nil {
		return err
	}
	if !merge(&idx, descs) {
		return nil
	}
	raw, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	_, _, err = c.PutManifest(ctx, path, tag, v1.MediaTypeImageIndex, raw)
	return err
}

// readTag reads the subject's referrers tag; a missing one is empty.
func readTag(ctx context.Context, c *registryapi.Client, path string, subject digest.Digest) (v1.Index, error) {
	tag := FallbackTag(subject)
	m, err := c.GetManifest(ctx, path, tag, v1.MediaTypeImageIndex)
	if registryapi.IsNotFound(err) {
		return emptyIndex(), nil
	}
	if err != nil {
		return v1.Index{}, err
	}
	idx, err := parseIndex(m.Body, m.MediaType)
	if err != nil {
		return v1.Index{}, fmt.Errorf("registry %s: referrers tag %s:%s: %w", c.Registry(), path, tag, err)
	}
	return idx, nil
}

// List returns the referrers of subject in repo of artifactType ("" for
// all): from the registry's referrers API, or from the referrers tag where
// it has none.
func List(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject digest.Digest, artifactType string) ([]v1.Descriptor, error) {
	where := repo.Name() + "@" + subject.String()
	descs, err := list(ctx, sys, repo, subject, artifactType)
	if err != nil {
		return nil, fmt.Errorf("list the referrers of %s: %w", where, err)
	}
	return descs, nil
}

func list(ctx context.Context, sys *types.SystemContext, repo reference.Named, subject digest.Digest, artifactType string) ([]v1.Descriptor, error) {
	if err := subject.Validate(); err != nil {
		return nil, err
	}
	path := reference.Path(repo)
	c, err := registryapi.New(ctx, sys, reference.Domain(repo), registryapi.Pull(path))
	if err != nil {
		return nil, err
	}
	// The whole list, filtered here: a registry may filter on the wrong
	// field (see artifactTypes).
	descs, ok, err := c.Referrers(ctx, path, subject, "")
	if err != nil {
		return nil, err
	}
	if ok {
		if descs, err = artifactTypes(ctx, c, path, descs); err != nil {
			return nil, err
		}
	} else {
		idx, err := readTag(ctx, c, path, subject)
		if err != nil {
			return nil, err
		}
		descs = idx.Manifests
	}
	return filter(descs, artifactType), nil
}

// artifactTypes reads the artifact type from the manifest where the
// registry said none or the empty config's: some registries (that of
// go-containerregistry) report the config media type even when the
// manifest has an artifactType, which the spec says comes first.
func artifactTypes(ctx context.Context, c *registryapi.Client, path string, descs []v1.Descriptor) ([]v1.Descriptor, error) {
	out := make([]v1.Descriptor, len(descs))
	for i, d := range descs {
		out[i] = d
		if (d.ArtifactType != "" && d.ArtifactType != v1.MediaTypeEmptyJSON) || d.MediaType != v1.MediaTypeImageManifest {
			continue
		}
		m, err := c.GetManifest(ctx, path, d.Digest.String(), v1.MediaTypeImageManifest)
		if err != nil {
			return nil, err
		}
		var man v1.Manifest
		if err := json.Unmarshal(m.Body, &man); err != nil {
			return nil, fmt.Errorf("registry %s: manifest %s@%s: %w", c.Registry(), path, d.Digest, err)
		}
		if man.ArtifactType != "" {
			out[i].ArtifactType = man.ArtifactType
		}
	}
	return out, nil
}

// Fetch reads the document of the artifact desc (a referrers descriptor)
// in repo: its manifest's first layer, both checked against their digests
// and sizes.
func Fetch(ctx context.Context, sys *types.SystemContext, repo reference.Named, desc v1.Descriptor) ([]byte, error) {
	where := repo.Name() + "@" + desc.Digest.String()
	data, err := fetch(ctx, sys, repo, desc)
	if err != nil {
		return nil, fmt.Errorf("fetch artifact %s: %w", where, err)
	}
	return data, nil
}

func fetch(ctx context.Context, sys *types.SystemContext, repo reference.Named, desc v1.Descriptor) ([]byte, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, err
	}
	path := reference.Path(repo)
	c, err := registryapi.New(ctx, sys, reference.Domain(repo), registryapi.Pull(path))
	if err != nil {
		return nil, err
	}
	m, err := c.GetManifest(ctx, path, desc.Digest.String(), v1.MediaTypeImageManifest)
	if err != nil {
		return nil, err
	}
	if desc.Size > 0 && int64(len(m.Body)) != desc.Size {
		return nil, fmt.Errorf("the manifest has %d bytes, the descriptor says %d", len(m.Body), desc.Size)
	}
	var man v1.Manifest
	if err := json.Unmarshal(m.Body, &man); err != nil {
		return nil, fmt.Errorf("the manifest: %w", err)
	}
	if len(man.Layers) == 0 {
		return nil, fmt.Errorf("the manifest has no layer")
	}
	l := man.Layers[0]
	if l.Size < 0 || l.Size > maxArtifact {
		return nil, fmt.Errorf("its document's size %d is out of bounds", l.Size)
	}
	data, err := c.GetBlob(ctx, path, l.Digest, l.Size)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != l.Size {
		return nil, fmt.Errorf("its document has %d bytes, the manifest says %d", len(data), l.Size)
	}
	return data, nil
}
