package dockerfile

import (
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
