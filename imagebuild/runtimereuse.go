package imagebuild

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	"go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"

	"github.com/pys2i/pys2i/assemble/artifacts"
	"github.com/pys2i/pys2i/imagebuild/container"
	"github.com/pys2i/pys2i/imagebuild/layer"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/runtimeimage"
	"github.com/pys2i/pys2i/imagebuild/source"
)

// runtimeDepsSuffix names the container of the runtime image on a reused
// dependency layer, after the build's temp dir (see sweep.go).
const runtimeDepsSuffix = "-runtime-deps"

// runtimeDeps is a previous --runtime-image build's dependency layer that
// this build reuses. It is laid back into the builder container (at the
// copies' sources) before assemble, so that what assemble still runs (pip
// install ., collectstatic) finds the venv; and the runtime image with it
// (ctr) is what the new image has below its new layers, which the
// artifacts are compared with after assemble.
type runtimeDeps struct {
	reuse *depsReuse
	ctr   *container.Container
	// restored are the paths (in the builder) of the layer's entries.
	restored []string
}

// plan decides what is copied where (runtimeimage.Plan), from the
// builder's Env. Nothing on nil.
func (rt *runtimeImage) plan(o options.Options, builderEnv []string) error {
	if rt == nil {
		return nil
	}
	rt.workDir = rt.cfg.Config.WorkingDir
	if rt.workDir == "" {
		rt.workDir = "/"
	}
	var err error
	rt.copies, rt.origin, err = runtimeimage.Plan(o.RuntimeArtifacts, rt.cfg.Config.Labels, builderEnv, rt.workDir)
	return err
}

// lineage is what a previous image must have been made on for its
// dependency layer to be reused by this build: the runtime image's layers,
// the builder's (by ChainID) and the same copies. A plain build's is the
// builder's layers.
func (rt *runtimeImage) lineage(builder []digest.Digest) lineage {
	if rt == nil {
		return lineage{base: builder}
	}
	copies, _ := json.Marshal(rt.copies)
	return lineage{base: rt.cfg.RootFS.DiffIDs, builder: identity.ChainID(builder).String(), artifacts: string(copies)}
}

// topLayer is the store layer a reused dependency layer sits on.
func (rt *runtimeImage) topLayer(builderTop string) string {
	if rt == nil {
		return builderTop
	}
	return rt.local.Image.TopLayer
}

// restoreDeps lays the reused dependency layer r into the builder
// container (ctrRoot) at the copies' sources, writes the fingerprint it
// was recorded with into the state dir (assemble checks it in place, the
// interpreter included), and mounts the runtime image with the layer.
// build names the build's containers.
func (rt *runtimeImage) restoreDeps(r *depsReuse, build, ctrRoot, home, state string, owner source.Owner) error {
	ctr, err := container.OnLayer(rt.store, r.storeLayer, build+runtimeDepsSuffix)
	if err != nil {
		return fmt.Errorf("runtime image %s with the reused dependencies: %w", rt.name, err)
	}
	rt.deps = &runtimeDeps{reuse: r, ctr: ctr}
	outside, _ := runtimeimage.Split(rt.copies, home)
	if rt.deps.restored, err = extractLayer(rt.store, r.storeLayer, ctrRoot, func(name string) (string, bool) {
		return toSource(outside, name)
	}); err != nil {
		return fmt.Errorf("restore the reused dependency layer %.19s in the builder: %w", r.layer.DiffID, err)
	}
	return writeFingerprint(ctrRoot, state, r.fingerprint, owner)
}

// toSource maps a name in the runtime image's dependency layer (no leading
// "/") to its path in the builder (the same form): entries under a part's
// Dest go to its Source; the parents the layer creates map to nothing.
func toSource(parts []runtimeimage.Part, name string) (string, bool) {
	p := "/" + name
	for _, part := range parts {
		if p == part.Dest || strings.HasPrefix(p, part.Dest+"/") {
			return strings.TrimPrefix(path.Join(part.Source, strings.TrimPrefix(p, part.Dest)), "/"), true
		}
	}
	return "", false
}

// extractLayer lays the store layer id (its own changes) into root.
func extractLayer(store storage.Store, id, root string, rename func(string) (string, bool)) ([]string, error) {
	none := archive.Uncompressed
	rc, err := store.Diff("", id, &storage.DiffOptions{Compression: &none})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return layer.Extract(rc, r, rename)
}

// writeFingerprint writes the recorded fingerprint (a label's JSON) where
// assemble looks for it, owned by the assemble user, who rewrites it.
func writeFingerprint(root, state, recorded string, owner source.Owner) error {
	var fp artifacts.Fingerprint
	if err := json.Unmarshal([]byte(recorded), &fp); err != nil {
		return fmt.Errorf("the previous image's dependency fingerprint: %w", err)
	}
	dir, err := securejoin.SecureJoin(root, state)
	if err != nil {
		return fmt.Errorf("state dir %s: %w", state, err)
	}
	file := filepath.Join(dir, artifacts.FingerprintFile)
	if err := fp.Write(file); err != nil {
		return fmt.Errorf("write the dependency fingerprint: %w", err)
	}
	for _, p := range []string{dir, file} {
		if err := os.Lchown(p, owner.UID, owner.GID); err != nil {
			return fmt.Errorf("write the dependency fingerprint: %w", err)
		}
	}
	return nil
}

// removed is the first restored path that assemble removed from the
// builder container, "" if none: the reused layer would bring it back.
func (d *runtimeDeps) removed(ctrRoot string) string {
	for _, p := range d.restored {
		dir, err := securejoin.SecureJoin(ctrRoot, path.Dir("/"+p))
		if err != nil {
			return "/" + p
		}
		if _, err := os.Lstat(filepath.Join(dir, path.Base(p))); errors.Is(err, fs.ErrNotExist) {
			return "/" + p
		}
	}
	return ""
}

// close removes the container of the runtime image with the reused layer.
func (d *runtimeDeps) close() error {
	if d == nil {
		return nil
	}
	return d.ctr.Remove()
}
