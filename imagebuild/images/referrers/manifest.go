package referrers

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"slices"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// emptyConfig is the config of every artifact manifest: the image spec's
// empty JSON object, since an SBOM has no configuration.
var emptyConfig = []byte("{}")

// emptyConfigDescriptor describes emptyConfig. It has no data field (the
// spec allows one) so that the manifest stays small and plain.
func emptyConfigDescriptor() v1.Descriptor {
	return v1.Descriptor{MediaType: v1.MediaTypeEmptyJSON, Digest: digest.FromBytes(emptyConfig), Size: int64(len(emptyConfig))}
}

// checkArtifact refuses what would make a manifest tools cannot read.
func checkArtifact(a Artifact) error {
	if mt, _, err := mime.ParseMediaType(a.ArtifactType); err != nil || mt != a.ArtifactType {
		return fmt.Errorf("artifact type %q is not a media type", a.ArtifactType)
	}
	if len(a.Data) == 0 {
		return fmt.Errorf("artifact %s has no content", a.ArtifactType)
	}
	return nil
}

// checkSubject refuses a subject descriptor the registry could not resolve.
func checkSubject(s v1.Descriptor) error {
	if err := s.Digest.Validate(); err != nil {
		return fmt.Errorf("subject digest %q: %w", s.Digest, err)
	}
	if s.MediaType == "" || s.Size <= 0 {
		return errors.New("the subject descriptor needs the manifest's media type and size")
	}
	return nil
}

// artifactManifest is the image manifest that attaches a to subject. Its
// bytes depend on its arguments alone (no time, map order is sorted by
// encoding/json), so attaching the same document twice gives the same
// digest.
func artifactManifest(subject v1.Descriptor, a Artifact) ([]byte, error) {
	layer := v1.Descriptor{MediaType: a.ArtifactType, Digest: digest.FromBytes(a.Data), Size: int64(len(a.Data))}
	m := v1.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    v1.MediaTypeImageManifest,
		ArtifactType: a.ArtifactType,
		Config:       emptyConfigDescriptor(),
		Layers:       []v1.Descriptor{layer},
		// Only what identifies the subject: a caller's platform or
		// annotations on it would change the digest for nothing.
		Subject:     &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: a.Annotations,
	}
	if len(m.Annotations) == 0 {
		m.Annotations = nil
	}
	return json.Marshal(m)
}

// referrerDescriptor is the referrers list's entry of an artifact
// manifest: what a client filters on without reading the manifest.
func referrerDescriptor(raw []byte, a Artifact) v1.Descriptor {
	d := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw)), ArtifactType: a.ArtifactType}
	if len(a.Annotations) > 0 {
		d.Annotations = a.Annotations
	}
	return d
}

// FallbackTag is the distribution spec's referrers tag of a subject: its
// digest with '-' for ':', the algorithm cut to 32 and the hex to 64
// characters.
func FallbackTag(subject digest.Digest) string {
	alg, enc := string(subject.Algorithm()), subject.Encoded()
	return alg[:min(len(alg), 32)] + "-" + enc[:min(len(enc), 64)]
}

// merge adds descs to the index's manifests, once each by digest, and
// reports whether it changed.
func merge(idx *v1.Index, descs []v1.Descriptor) bool {
	changed := false
	for _, d := range descs {
		if slices.ContainsFunc(idx.Manifests, func(e v1.Descriptor) bool { return e.Digest == d.Digest }) {
			continue
		}
		idx.Manifests = append(idx.Manifests, d)
		changed = true
	}
	return changed
}

// emptyIndex is the referrers list of a subject nothing refers to yet.
func emptyIndex() v1.Index {
	return v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex, Manifests: []v1.Descriptor{}}
}

// parseIndex reads a referrers tag's image index.
func parseIndex(raw []byte, mediaType string) (v1.Index, error) {
	var idx v1.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return idx, fmt.Errorf("not an image index: %w", err)
	}
	if mediaType != v1.MediaTypeImageIndex || (idx.MediaType != "" && idx.MediaType != v1.MediaTypeImageIndex) {
		return idx, fmt.Errorf("a %s, not an image index", mediaType)
	}
	if idx.Manifests == nil {
		idx.Manifests = []v1.Descriptor{}
	}
	return idx, nil
}

// filter keeps the descriptors of artifactType ("" keeps all).
func filter(descs []v1.Descriptor, artifactType string) []v1.Descriptor {
	out := []v1.Descriptor{}
	for _, d := range descs {
		if artifactType == "" || d.ArtifactType == artifactType {
			out = append(out, d)
		}
	}
	return out
}
