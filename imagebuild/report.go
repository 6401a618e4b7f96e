package imagebuild

import (
	"context"
	"time"

	"github.com/pys2i/pys2i/imagebuild/callback"
	"github.com/pys2i/pys2i/imagebuild/results"
	"github.com/pys2i/pys2i/internal/redact"
	"go.podman.io/image/v5/types"
)

// report writes the build's outcome to the --result files and posts it to
// --callback-url, once everything is undone. A failure to report is a
// warning: the build's own result stands (as in s2i).
func (b *build) report(ctx context.Context, buildErr error) {
	// A step that writes no image (--step prepare, assemble) reports only
	// its failure.
	if buildErr != nil || b.res.Digest != "" {
		if err := results.Write(b.o.Results, b.outcome(buildErr)); err != nil {
			b.logf("warning: %v", err)
		}
	}
	if b.o.CallbackURL == "" {
		return
	}
	r := callback.Result{Success: buildErr == nil}
	if r.Success {
		r.Labels = b.res.Labels
	}
	// Sent even when the build was interrupted, but not for long.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := callback.Send(ctx, nil, b.o.CallbackURL, r); err != nil {
		b.logf("warning: %v", err)
	}
}

// outcome is what the --result files say of the build.
func (b *build) outcome(buildErr error) results.Outcome {
	if buildErr != nil {
		return results.Outcome{Reason: b.phase + "Failed", Message: redact.URL(buildErr.Error())}
	}
	return results.Outcome{Digest: b.res.Digest, URL: imageURL(b.outRef, b.o.Tag), Size: b.res.Size}
}

// imageURL is the written image's name as a pipeline records it: the
// registry reference, fully qualified, else TAG as given.
func imageURL(ref types.ImageReference, tag string) string {
	if ref != nil && ref.Transport().Name() == "docker" && ref.DockerReference() != nil {
		return ref.DockerReference().String()
	}
	return redact.URL(tag)
}
