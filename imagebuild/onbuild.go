package imagebuild

import (
	"context"
	"fmt"

	"go.podman.io/image/v5/types"

	"github.com/pys2i/pys2i/imagebuild/assembleuser"
	"github.com/pys2i/pys2i/imagebuild/images"
)

// builderOnBuild returns the builder's ONBUILD instructions for the
// --allowed-uids check (only Docker-format configs carry them). With
// ranges, instructions that cannot be read are an error, as in s2i: what
// cannot be checked is refused. pys2i does not run ONBUILD triggers (s2i
// would switch to its onbuild strategy): a builder that has some gets a
// warning.
func builderOnBuild(ctx context.Context, sys *types.SystemContext, ref types.ImageReference, rs assembleuser.Ranges, logf func(string, ...any)) ([]string, error) {
	ins, err := images.OnBuild(ctx, sys, ref)
	if err != nil {
		if len(rs) > 0 {
			return nil, fmt.Errorf("builder: the ONBUILD instructions cannot be checked against --allowed-uids: %w", err)
		}
		return nil, nil
	}
	if len(ins) > 0 {
		logf("warning: the builder has %d ONBUILD instructions; pys2i does not run them (s2i would build with its onbuild strategy)", len(ins))
	}
	return ins, nil
}
