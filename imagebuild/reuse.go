package imagebuild

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/storage"

	"github.com/pys2i/pys2i/assemble/artifacts"
	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/container"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
)

// lineage is what a previous image's dependency layer must have been made
// on to be reused: the layers it sits on (the builder's; with
// --runtime-image, the runtime image's), and for a runtime-image build the
// builder and the copies (its LabelDepsBuilder and LabelDepsArtifacts labels).
type lineage struct {
	base      []digest.Digest
	builder   string // "" for a plain build
	artifacts string
}

// labels are the lineage labels of a build's image: none for a plain one.
func (l lineage) labels() map[string]string {
	if l.builder == "" {
		return nil
	}
	return map[string]string{contract.LabelDepsBuilder: l.builder, contract.LabelDepsArtifacts: l.artifacts}
}

// reuseDecision is whether a previous image's dependency layer can be the
// base of this build's container, and why (or why not), for the log.
type reuseDecision struct {
	Reuse  bool
	Layer  digest.Digest // the dependency layer's DiffID when Reuse
	Reason string
}

// decideReuse is the pure decision. The previous image's layers must be the
// lineage's base (same DiffIDs, in order) followed by the labelled
// dependency layer, made the same way (a plain build's, or a runtime-image
// build's with the same builder and copies), and the fingerprint recorded
// there must equal the current one.
//
// The current fingerprint is computed on the host, where the interpreter's
// version (the "python" key) is not known: it is left out of the
// comparison. That is sound because the recorded "python" is the one
// assemble read from the builder's venv before installing anything, and the
// builder's layers are the same; assemble also checks the whole fingerprint,
// "python" included, in place before skipping pip.
func decideReuse(l lineage, prev *v1.Image, current artifacts.Fingerprint, user string) reuseDecision {
	no := func(format string, args ...any) reuseDecision {
		return reuseDecision{Reason: fmt.Sprintf(format, args...)}
	}
	if prev == nil {
		return no("no previous image")
	}
	if why := l.mismatch(prev); why != "" {
		return no("%s", why)
	}
	ids := prev.RootFS.DiffIDs
	deps := digest.Digest(prev.Config.Labels[contract.LabelDepsLayer])
	if deps == "" || ids[len(l.base)] != deps {
		return no("the previous image has no dependency layer recorded (label %s)", contract.LabelDepsLayer)
	}
	var recorded artifacts.Fingerprint
	if err := json.Unmarshal([]byte(prev.Config.Labels[contract.LabelDepsFingerprint]), &recorded); err != nil || len(recorded) == 0 {
		return no("the previous image has no dependency fingerprint (label %s)", contract.LabelDepsFingerprint)
	}
	if u := prev.Config.Labels[contract.LabelDepsUser]; u != user {
		return no("the previous image's dependencies were installed as %q, this build's assemble user is %s", u, user)
	}
	if current == nil {
		return no("the dependency inputs could not be read")
	}
	if _, ok := current["env:ENABLE_PIPENV"]; ok {
		// pipenv itself is installed in $HOME/.local, which is not in the
		// dependency layer.
		return no("pipenv builds are not reused in place")
	}
	if d := withoutPython(recorded).Diff(withoutPython(current)); len(d) > 0 {
		return no("the dependency inputs changed: %s", strings.Join(d, ", "))
	}
	return reuseDecision{Reuse: true, Layer: deps, Reason: "the dependency inputs are unchanged"}
}

// mismatch says why prev was not made on this lineage, "" when it was.
func (l lineage) mismatch(prev *v1.Image) string {
	ids := prev.RootFS.DiffIDs
	onBase := len(ids) >= len(l.base)+2 && slices.Equal(ids[:len(l.base)], l.base)
	prevBuilder := prev.Config.Labels[contract.LabelDepsBuilder]
	if l.builder == "" {
		switch {
		case !onBase:
			return "the previous image was built on another builder (its first layers are not the builder's)"
		case prevBuilder != "":
			return "the previous image was built with --runtime-image (its dependencies were installed on another builder)"
		}
		return ""
	}
	switch {
	case !onBase:
		return "the previous image was built on another runtime image (its first layers are not the runtime image's)"
	case prevBuilder == "":
		return "the previous image was not built with --runtime-image (its dependencies were installed on the runtime image itself)"
	case prevBuilder != l.builder:
		return "the previous image's dependencies were installed on another builder (label " + contract.LabelDepsBuilder + ")"
	case prev.Config.Labels[contract.LabelDepsArtifacts] != l.artifacts:
		return "the previous image copied other runtime artifacts (label " + contract.LabelDepsArtifacts + ")"
	}
	return ""
}

func withoutPython(f artifacts.Fingerprint) artifacts.Fingerprint {
	out := artifacts.Fingerprint{}
	for k, v := range f {
		if k != "python" {
			out[k] = v
		}
	}
	return out
}

// previousImageName is the image whose dependency layer a build may reuse
// (and, incremental, whose save-artifacts runs): --incremental-from, else
// TAG: with --incremental in any transport, as s2i; otherwise only when it
// names an image of the local store (a bare name or containers-storage:).
// "" for none.
func previousImageName(o options.Options) string {
	if o.IncrementalFrom != "" {
		return o.IncrementalFrom
	}
	if o.Incremental {
		return o.Tag
	}
	for _, p := range []string{"oci:", "oci-archive:", "docker://", "docker-archive:", "docker-daemon:", "dir:"} {
		if strings.HasPrefix(o.Tag, p) {
			return ""
		}
	}
	return o.Tag
}

// previousImage brings the previous image into reach in the store: TAG of
// a plain build is never pulled (a build writes it there); an incremental
// build's by --incremental-pull-policy. Not found is (nil, nil), but for an
// explicit --incremental-from (an error) and --incremental (a
// *notIncremental, for the log).
func previousImage(ctx context.Context, im *images.Images, o options.Options) (*images.Local, *v1.Image, error) {
	name := previousImageName(o)
	if name == "" {
		return nil, nil, nil
	}
	policy := images.PullNever
	if o.Incremental {
		policy = o.IncrementalPullPolicy
	}
	l, err := im.Previous(ctx, name, policy)
	if err != nil {
		if o.IncrementalFrom != "" {
			return nil, nil, fmt.Errorf("--incremental-from %s: %w", name, err)
		}
		if o.Incremental {
			return nil, nil, &notIncremental{name: name, err: err}
		}
		return nil, nil, nil
	}
	cfg, _, err := images.ReadConfig(ctx, im.SystemContext(), l.Ref)
	if err != nil {
		return nil, nil, fmt.Errorf("previous image %s: %w", name, err)
	}
	return &l, cfg, nil
}

// depsStoreLayer finds the store layer that holds DiffID deps right on the
// builder's top layer: the parent of the next build container.
func depsStoreLayer(store storage.Store, builderTop string, deps digest.Digest) (storage.Layer, error) {
	layers, err := store.LayersByUncompressedDigest(deps)
	if err != nil {
		return storage.Layer{}, fmt.Errorf("dependency layer %s: %w", deps, err)
	}
	for _, l := range layers {
		if l.Parent == builderTop {
			return l, nil
		}
	}
	return storage.Layer{}, fmt.Errorf("dependency layer %s is not in the store on the builder's layers", deps)
}

// recordedFingerprint reads the fingerprint assemble left in the container
// (inside root: no symlink leads out), "" if there is none.
func recordedFingerprint(root, stateDir string) (string, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return "", err
	}
	defer r.Close()
	f, err := r.Open(strings.TrimPrefix(path.Join(stateDir, artifacts.FingerprintFile), "/"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the dependency fingerprint: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read the dependency fingerprint: %w", err)
	}
	var fp artifacts.Fingerprint
	if err := json.Unmarshal(b, &fp); err != nil {
		return "", nil // not ours: no reuse next time
	}
	out, _ := json.Marshal(fp) // compact and sorted: the label
	return string(out), nil
}

// stateDir is assemble's state directory in the image (PYS2I_STATE_DIR).
func stateDir(env []string) string {
	if d := envlist.Get(env, contract.EnvStateDir); d != "" {
		return d
	}
	return contract.DefaultStateDir
}

// ancestors are the directories above each path (rel, no leading "/").
func ancestors(paths ...string) map[string]bool {
	out := map[string]bool{}
	for _, p := range paths {
		p = strings.Trim(path.Clean("/"+p), "/")
		for d := path.Dir(p); d != "." && d != "/" && d != ""; d = path.Dir(d) {
			out[d] = true
		}
	}
	return out
}

// depsReuse is a decided reuse: the store layer the build container (or,
// with --runtime-image, the runtime image's) goes on, that layer as the
// commit reuses it, and the fingerprint recorded with it (its label).
type depsReuse struct {
	storeLayer  string
	layer       commit.Layer
	fingerprint string
}

// planReuse decides whether this build reuses a previous image's dependency
// layer, and logs why or why not when there is a previous image. The layer
// must sit on the store layer top (the builder's top layer; with
// --runtime-image, the runtime image's). srcHost is the prepared source;
// env is assemble's environment.
func planReuse(ctx context.Context, im *images.Images, store storage.Store, o options.Options,
	l lineage, top string, srcHost string, env []string, user string, logf func(string, ...any)) (*images.Local, *depsReuse, error) {
	local, prev, err := previousImage(ctx, im, o)
	if ni := (*notIncremental)(nil); errors.As(err, &ni) {
		logf("%s", ni)
		err = nil
	}
	if err != nil || prev == nil {
		return nil, nil, err
	}
	current, err := artifacts.Compute(srcHost, env, "")
	if err != nil {
		current = nil
	}
	name := previousImageName(o)
	d := decideReuse(l, prev, current, user)
	if !d.Reuse {
		logf("pys2i: not reusing the dependencies of %s: %s", name, d.Reason)
		return local, nil, nil
	}
	sl, err := depsStoreLayer(store, top, d.Layer)
	if err != nil {
		logf("pys2i: not reusing the dependencies of %s: %v", name, err)
		return local, nil, nil
	}
	logf("pys2i: reusing the dependency layer %.19s of %s: %s", d.Layer, name, d.Reason)
	return local, &depsReuse{storeLayer: sl.ID, layer: commit.Layer{DiffID: d.Layer, Size: sl.UncompressedSize},
		fingerprint: prev.Config.Labels[contract.LabelDepsFingerprint]}, nil
}

// rebase replaces the build container old (on the builder) with one on the
// reused dependency layer, and prepares the source in it again.
func (r *depsReuse) rebase(ctx context.Context, store storage.Store, old *container.Container, name, srcIn string,
	src source.Options) (*container.Container, string, source.Info, error) {
	c, err := container.OnLayer(store, r.storeLayer, name)
	if err != nil {
		return nil, "", source.Info{}, err
	}
	if err := old.Remove(); err != nil {
		return nil, "", source.Info{}, errors.Join(err, c.Remove())
	}
	srcHost, err := securejoin.SecureJoin(c.Root, srcIn)
	if err != nil {
		return nil, "", source.Info{}, errors.Join(fmt.Errorf("source destination %s: %w", srcIn, err), c.Remove())
	}
	info, err := source.Prepare(ctx, src, srcHost)
	if err != nil {
		return nil, "", source.Info{}, errors.Join(err, c.Remove())
	}
	return c, srcHost, info, nil
}

// depsLabels are the labels that let the next build reuse this one's
// dependency layer: only when assemble recorded a fingerprint, and, on a
// reused layer, changed nothing else outside $HOME.
func depsLabels(recorded string, reuse *depsReuse, outside commit.Layer, user string, l lineage) map[string]string {
	if recorded == "" {
		return nil
	}
	deps := outside.DiffID
	if reuse != nil {
		if outside.Entries > 0 {
			return nil
		}
		deps = reuse.layer.DiffID
	}
	labels := map[string]string{contract.LabelDepsLayer: deps.String(), contract.LabelDepsFingerprint: recorded, contract.LabelDepsUser: user}
	maps.Copy(labels, l.labels())
	return labels
}

// userKey is how a dependency layer's owner is recorded and compared.
func userKey(u User) string { return fmt.Sprintf("%d:%d", u.UID, u.GID) }

// reused is the layer the commit reuses, nil without reuse.
func (r *depsReuse) reused() *commit.Layer {
	if r == nil {
		return nil
	}
	return &r.layer
}

// skipDirs are the directories left out of the changes outside $HOME on a
// reused dependency layer when nothing but they changed there: the parents
// an overlay copies up for the source's move into $HOME and the state dir.
func skipDirs(r *depsReuse, home, srcIn, state string) map[string]bool {
	if r == nil {
		return nil
	}
	return ancestors(home, srcIn, path.Join(state, artifacts.FingerprintFile))
}
