package harness

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/test/world"
)

// World is the built test world with its servers running for one test binary.
type World struct {
	*world.Manifest
	Index     *Server // package index: Index.URL is the --index-url
	Registry  *Server // registry: Registry.URL is host:port
	tmp       string
	templates s2iTemplates
	scripts   scriptsBin
	ports     portSet
}

// Setup loads the world and starts its package index and registry. Call it
// from TestMain after sandbox.Init; a missing world is an error, never a skip.
func Setup() (*World, error) {
	m, err := world.Load(world.DefaultRoot())
	if err != nil {
		return nil, err
	}
	if m.Tools == "" {
		return nil, fmt.Errorf("test world under %s has no tools venv (built by older code): run `make world`", m.Root)
	}
	tmp, err := os.MkdirTemp("", "pys2i-harness-")
	if err != nil {
		return nil, err
	}
	w := &World{Manifest: m, tmp: tmp}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := BuildIndexServer(ctx, tmp)
	if err != nil {
		w.Close()
		return nil, err
	}
	logf, err := os.Create(filepath.Join(tmp, "servers.log"))
	if err != nil {
		w.Close()
		return nil, err
	}
	if w.Index, err = StartIndex(bin, m.Index, false, logf); err != nil {
		w.Close()
		return nil, err
	}
	if w.Registry, err = StartRegistry(filepath.Join(tmp, "registry"), "", false, logf); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Close stops the servers and removes the harness's temporary files.
func (w *World) Close() {
	w.Index.Stop()
	w.Registry.Stop()
	os.RemoveAll(w.tmp)
}

// ToolsBin is the bin folder of the world's tools venv (pipenv, poetry,
// uv on Debian's python3, installed from the index's files).
func (w *World) ToolsBin() string { return filepath.Join(w.Tools, "bin") }

// Image returns a base image of the world by variant ("minimal" or "full").
func (w *World) Image(variant string) (world.Image, error) {
	img, ok := w.Images[variant]
	if !ok {
		return world.Image{}, fmt.Errorf("test world has no %q image", variant)
	}
	return img, nil
}

// Spec is a sandbox spec for running args in a base image as uid:gid
// 1001:0 (the S2I user), with the image's Env plus HOME and nothing from the
// host's environment. Callers adjust fields (StateDir, Mounts, UID) as needed.
func (w *World) Spec(variant string, args ...string) (sandbox.Spec, error) {
	img, err := w.Image(variant)
	if err != nil {
		return sandbox.Spec{}, err
	}
	env := append(append([]string(nil), img.Env...), "HOME=/tmp")
	return sandbox.Spec{
		RootFS: img.RootFS,
		Args:   args,
		Env:    env,
		Dir:    "/tmp",
		UID:    1001,
		GID:    0,
	}, nil
}

// Output runs spec to completion and returns its combined output.
func Output(ctx context.Context, spec sandbox.Spec) (string, error) {
	var out strings.Builder
	spec.Stdout, spec.Stderr = &out, &out
	err := sandbox.Run(ctx, spec)
	return out.String(), err
}

// Tee sends output to both w and, when set, a test log.
func Tee(ws ...io.Writer) io.Writer { return io.MultiWriter(ws...) }
