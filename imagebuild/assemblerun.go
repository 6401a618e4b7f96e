package imagebuild

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
)

// assembleRunner runs the assemble script where the build's changes are
// read from: a failing assemble is an *AssembleError.
type assembleRunner interface {
	Run(ctx context.Context, spec assembleSpec) error
}

// assembleSpec is how assemble runs: its path in the image, environment,
// working directory and user, output, and the build's own mounts (the pip
// cache).
type assembleSpec struct {
	Script         string
	Env            []string
	Dir            string
	UID, GID       uint32
	Stdout, Stderr io.Writer // nil discards
	Mounts         []sandbox.Mount
}

// assembleRunner is the runner of this build: the sandbox in its container,
// or (--in-place) a child of this process.
func (b *build) assembleRunner() assembleRunner {
	if b.ip != nil {
		return directAssemble{}
	}
	return sandboxAssemble{root: b.root, tmp: b.tmp, ex: b.ex}
}

// sandboxAssemble runs assemble in a sandbox on the build container's root,
// with the flags' extras (volumes, network, capabilities, hosts); the
// --inject files are emptied once it is done.
type sandboxAssemble struct {
	root, tmp string
	ex        *extras
}

func (s sandboxAssemble) Run(ctx context.Context, a assembleSpec) error {
	spec := sandbox.Spec{
		RootFS: s.root, Writable: true,
		Args: []string{a.Script},
		Env:  a.Env, Dir: a.Dir, UID: a.UID, GID: a.GID,
		Stdout: a.Stdout, Stderr: a.Stderr, TempDir: s.tmp, Mounts: a.Mounts,
	}
	s.ex.apply(&spec)
	err := sandbox.Run(ctx, spec)
	if terr := s.ex.truncateInjected(); terr != nil {
		err = errors.Join(err, terr)
	}
	var ee *sandbox.ExitError
	if errors.As(err, &ee) {
		return &AssembleError{Code: ee.Code}
	}
	if err != nil {
		return fmt.Errorf("assemble: %w", err)
	}
	return nil
}
