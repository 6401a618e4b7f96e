package imagebuild

import (
	"context"
	"time"

	"github.com/pys2i/pys2i/imagebuild/callback"
)

// report posts the build's outcome to --callback-url, if set, once
// everything is undone. Its failure is a warning: the build's own result
// stands (as in s2i).
func (b *build) report(ctx context.Context, buildErr error) {
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
