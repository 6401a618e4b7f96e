package imagebuild

import (
	"context"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/types"

	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/imageconfig"
	"github.com/pys2i/pys2i/imagebuild/images"
)

// write commits the collected layers with the build's config, labels and
// annotations, and writes the image to TAG.
func (b *build) write(ctx context.Context, c collected) error {
	o := b.o
	created := b.epoch
	cfg, ann, err := imageconfig.Build(*c.baseCfg, imageconfig.Facts{
		RunScript: c.runScript,
		BuildEnv:  b.env.Strings(), Source: b.info,
		BuilderName: o.Builder, BuilderDigest: b.baseDigest,
		Tag: o.Tag, AppName: o.AppName, Description: o.Description,
		Created: created, Metadata: c.meta,
		ExtraLabels: depsLabels(b.recorded, c.deps, c.layers.Outside, userKey(b.user), b.lin),
	})
	if err != nil {
		return err
	}
	b.res.Labels = cfg.Config.Labels
	if rt := c.runtime; rt != nil {
		// The layers below are the runtime image's.
		ann[v1.AnnotationBaseImageName], ann[v1.AnnotationBaseImageDigest] = rt.name, rt.digest
	}
	in := c.layers
	in.Config, in.Annotations, in.Created = cfg, ann, created
	ref, err := commit.Image(ctx, in)
	if err != nil {
		return err
	}
	if c.runtime != nil {
		b.logf("pys2i: writing %s (on %s)", o.Tag, c.runtime.name)
	} else {
		b.logf("pys2i: writing %s", o.Tag)
	}
	if b.ip != nil {
		if err := b.mountBuilderBlobs(ctx); err != nil {
			return err
		}
	}
	written, err := b.copyOut(ctx, ref, in.NewDiffIDs())
	if err != nil {
		return err
	}
	b.res.Digest, b.res.Size = written.Digest.String(), written.Size
	b.attachSBOM(ctx, in.Generated, written)
	b.debugf("image written")
	if o.Incremental && o.RemovePrevious && b.prev != nil {
		removePrevious(b.store, *b.prev, b.outRef, b.logf)
	}
	b.res.Tag = o.Tag
	b.res.Commit = time.Since(b.cStart)
	return nil
}

// copyOut copies the committed image to the output reference.
func (b *build) copyOut(ctx context.Context, ref types.ImageReference, diffIDs []digest.Digest) (images.Written, error) {
	w, err := b.im.WriteBuilt(ctx, b.outRef, ref, diffIDs)
	if err != nil {
		return w, fmt.Errorf("write the image to %s: %w", b.o.Tag, err)
	}
	return w, nil
}
