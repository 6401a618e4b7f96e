package commit

import (
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// newLayer is a layer the commit adds on the builder's, with its history.
type newLayer struct {
	Layer
	history v1.History
}

// newLayers are the layers a build adds, in order: the dependency layer
// (a reused one, or what assemble put outside $HOME), what assemble changed
// outside $HOME on a reused one if anything, then $HOME, then the files
// pys2i generated (the SBOM).
func newLayers(in Input) []newLayer {
	created := in.Created.UTC()
	h := func(by, comment string) v1.History {
		return v1.History{Created: &created, CreatedBy: "pys2i build: " + by, Comment: comment}
	}
	// A reused layer has the history it was made with, so that a rebuild
	// that reuses it and one that makes it again give the same image.
	deps := h("assemble (outside "+in.HomeDir+")", "dependencies and what else assemble installed")
	var out []newLayer
	if in.Deps != nil {
		out = append(out, newLayer{*in.Deps, deps})
		if in.Outside.Entries > 0 {
			out = append(out, newLayer{in.Outside, h("assemble (outside "+in.HomeDir+", on reused dependencies)", "what assemble changed outside "+in.HomeDir+" on the reused dependency layer")})
		}
	} else {
		out = append(out, newLayer{in.Outside, deps})
	}
	out = append(out, newLayer{in.Home, h("assemble ("+in.HomeDir+")", "the application")})
	if in.Generated != nil {
		out = append(out, newLayer{*in.Generated, h("sbom", "the software bill of materials")})
	}
	return out
}
