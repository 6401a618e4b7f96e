// Package blobmount asks a registry to mount blobs from one repository into
// another (the distribution spec's cross-repository mount), so that an image
// written on top of another one's layers never reads and sends them again:
// containers/image does this only for blobs its persistent cache has seen,
// which a static binary in a pod has none of.
package blobmount

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/types"

	"github.com/pys2i/pys2i/imagebuild/images/registryapi"
)

// Result says what became of each blob.
type Result struct {
	Present int // in the destination already, or mounted there now
	Missing int // to be sent by the write
}

// Mount makes each blob of from present in dst, which must be on the same
// registry, by a cross-repository mount where it is not there yet. The
// credentials are sys's for that registry; with sys's TLS verification
// off, plain HTTP is tried when HTTPS fails, as containers/image does.
func Mount(ctx context.Context, sys *types.SystemContext, dst, from reference.Named, blobs []digest.Digest) (Result, error) {
	registry := reference.Domain(dst)
	if reference.Domain(from) != registry {
		return Result{}, fmt.Errorf("mount from %s into %s: not the same registry", from.Name(), dst.Name())
	}
	dstRepo, fromRepo := reference.Path(dst), reference.Path(from)
	c, err := registryapi.New(ctx, sys, registry, registryapi.Push(dstRepo), registryapi.Pull(fromRepo))
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, d := range blobs {
		ok, err := c.HasBlob(ctx, dstRepo, d)
		var se *registryapi.StatusError
		if errors.As(err, &se) {
			// An answer other than 200 or 404 (a 403 for HEAD, say) is no
			// reason not to try the mount.
			ok, err = false, nil
		}
		if err == nil && !ok {
			ok, err = c.MountBlob(ctx, dstRepo, fromRepo, d)
		}
		if err != nil {
			return res, err
		}
		if ok {
			res.Present++
		} else {
			res.Missing++
		}
	}
	return res, nil
}
