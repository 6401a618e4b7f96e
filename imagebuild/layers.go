package imagebuild

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/imageconfig"
	"github.com/pys2i/pys2i/imagebuild/source/s2iscripts"
)

// layerCollector reads, after assemble, the layers a build adds and what
// they go on: the build container's changes on the builder, or (with
// --runtime-image) the artifacts on the runtime image.
type layerCollector interface {
	collect(ctx context.Context) (collected, error)
}

// collected is a layerCollector's result, what write commits.
type collected struct {
	// layers has Base, Outside, Home, HomeDir and Deps; write adds the
	// config, annotations and time.
	layers    commit.Input
	baseCfg   *v1.Image // the config the image's is made from
	runScript string    // the committed Cmd
	meta      []byte    // image_metadata.json, if assemble wrote it
	deps      *depsReuse
	// runtime is set when the layers go on the runtime image.
	runtime *runtimeImage
}

// collector is the build's layerCollector.
func (b *build) collector() layerCollector {
	if b.ip != nil {
		return inPlaceChanges{b}
	}
	if b.rt != nil {
		return runtimeLayers{b}
	}
	return containerChanges{b}
}

// containerChanges are a plain build's layers: the build container's
// changes, split into what is outside $HOME (the dependencies) and $HOME.
type containerChanges struct{ b *build }

func (c containerChanges) collect(context.Context) (collected, error) {
	b := c.b
	// The changes are read from the driver's own files while the root is
	// still mounted (assemble is gone: nothing changes them), so that a
	// whiteout entry can be told from a file named like one.
	diff, err := b.ctr.Diff()
	if err != nil {
		return collected{}, err
	}
	layers := filepath.Join(b.tmp, "layers")
	if err := os.Mkdir(layers, 0o700); err != nil {
		diff.Close()
		return collected{}, fmt.Errorf("temp dir: %w", err)
	}
	dropSrc := strings.Trim(b.srcIn, "/")
	outside, homeLayer, meta, err := commit.Split(diff, layers, commit.SplitOptions{
		Home:     b.home,
		Capture:  imageconfig.MetadataPath,
		Clamp:    b.epoch,
		SkipDirs: skipDirs(b.reuse, b.home, b.srcIn, b.state),
		Whiteout: namedLikeWhiteouts(b.ctr.Root, "assemble"),
		Drop: func(rel string) bool {
			// The injected source is an input: what assemble left of it is
			// not part of the image (its copy in $HOME is).
			return rel == dropSrc || strings.HasPrefix(rel, dropSrc+"/") || sandboxArtifact(rel) || b.ex.dropped(rel) ||
				dropInput(rel, b.cacheMounts, b.o.Incremental, b.dest)
		},
	})
	if cerr := diff.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("read container changes: %w", cerr)
	}
	if err != nil {
		return collected{}, err
	}
	if err := b.ctr.Unmount(); err != nil {
		return collected{}, err
	}

	b.debugf("changes split: %d + %d bytes", outside.Size, homeLayer.Size)
	return collected{
		layers: commit.Input{
			Base: b.baseSrc, Outside: outside, Home: homeLayer, HomeDir: b.home,
			Deps: b.reuse.reused(),
		},
		baseCfg: b.baseCfg, runScript: b.scripts[s2iscripts.Run].PathIn(b.dest), meta: meta, deps: b.reuse,
	}, nil
}

// runtimeLayers are a --runtime-image build's layers: the artifacts copied
// from the builder container onto the runtime image (runtime.go).
type runtimeLayers struct{ b *build }

func (r runtimeLayers) collect(ctx context.Context) (collected, error) {
	b := r.b
	return b.rt.collect(ctx, b.req, runtimeInput{
		CtrRoot: b.ctr.Root, Tmp: b.tmp, BuilderEnv: b.baseCfg.Config.Env,
		BuildEnv: b.env.Strings(), Owner: *b.owner, Epoch: b.epoch,
	}, b.logf)
}
