package imagebuild

import (
	"context"
	"os"
	"time"

	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/images/referrers"
	"github.com/pys2i/pys2i/imagebuild/sbom"
)

// attachSBOM attaches the image's SBOM documents to it as OCI artifacts
// when it was written to a registry, where tools look for them (the
// referrers API, or its tag where the registry has none). The image is
// written by then and holds the same documents: a registry that refuses
// the artifacts gets a warning, not a failed build.
func (b *build) attachSBOM(ctx context.Context, l *commit.Layer, w images.Written) {
	if l == nil || b.outRef.Transport().Name() != "docker" || b.outRef.DockerReference() == nil {
		return
	}
	if err := b.attachSBOMDocs(ctx, l, w); err != nil {
		b.logf("warning: the image's SBOM was not attached to it in the registry (it is in the image, %s): %v", sbom.Dir, err)
	}
}

func (b *build) attachSBOMDocs(ctx context.Context, l *commit.Layer, w images.Written) error {
	f, err := os.Open(l.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	docs, err := sbom.FromLayer(f)
	if err != nil {
		return err
	}
	ann := map[string]string{"org.opencontainers.image.created": b.epoch.UTC().Format(time.RFC3339)}
	var arts []referrers.Artifact
	for _, format := range sbom.Formats {
		arts = append(arts, referrers.Artifact{ArtifactType: format.MediaType(), Data: docs[format], Annotations: ann})
	}
	descs, err := referrers.Attach(ctx, b.im.SystemContext(), b.outRef.DockerReference(), w.Manifest, arts)
	if err != nil {
		return err
	}
	for _, d := range descs {
		b.debugf("sbom %s attached as %s", d.ArtifactType, d.Digest)
	}
	b.logf("pys2i: SBOM attached to %s (%d documents)", w.Digest, len(descs))
	return nil
}
