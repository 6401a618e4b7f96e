package dockerfile

import (
	"context"
	"fmt"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/source"
)

// RequestFrom is the --as-dockerfile request for the build options o
// (o.AsDockerfile is the path), without the builder's config: the caller
// sets BuilderConfig if it can read it. An incremental build's previous
// image is --incremental-from, else TAG.
func RequestFrom(o options.Options) Request {
	req := Request{
		Path: o.AsDockerfile,
		Source: source.Options{Source: o.Source, Ref: o.Ref, ContextDir: o.ContextDir,
			Exclude: o.Exclude, IgnoreSubmodules: o.IgnoreSubmodules},
		Builder:    o.Builder,
		ScriptsURL: o.ScriptsURL, ImageScriptsURL: o.ImageScriptsURL, Destination: o.Destination,
		AssembleUser: o.AssembleUser, AllowedUIDs: o.AllowedUIDs,
		EnvFlags: o.Env, EnvFiles: o.EnvFiles,
		Tag: o.Tag, AppName: o.AppName, Description: o.Description,
	}
	if o.Incremental {
		req.IncrementalFrom = o.IncrementalFrom
		if req.IncrementalFrom == "" {
			req.IncrementalFrom = o.Tag
		}
	}
	return req
}

// Inspector reads an image's config and manifest digest; images.Images
// implements it.
type Inspector interface {
	Config(ctx context.Context, ref string) (*v1.Image, string, error)
}

// WithBuilderConfig returns req with the builder's config as ins reads it
// (nil: no image access). As in s2i, the labels are only a refinement:
// when they cannot be read the defaults apply, and the warning says why.
func WithBuilderConfig(ctx context.Context, req Request, ins Inspector) (Request, string) {
	if ins == nil {
		return req, "the builder's labels cannot be read (no image access); using the defaults"
	}
	img, _, err := ins.Config(ctx, req.Builder)
	if err != nil {
		return req, fmt.Sprintf("could not inspect the builder image for labels: %v", err)
	}
	req.BuilderConfig = img
	return req, ""
}
