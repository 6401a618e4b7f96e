package imagebuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"

	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/container"
	"github.com/pys2i/pys2i/imagebuild/runtimeimage"
	"github.com/pys2i/pys2i/imagebuild/runtimeimage/elfdeps"
	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/imagebuild/source/s2iscripts"
	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
)

// AssembleRuntimeError reports that assemble-runtime ran and failed.
type AssembleRuntimeError struct{ Code int }

func (e *AssembleRuntimeError) Error() string {
	return fmt.Sprintf("assemble-runtime failed with exit status %d", e.Code)
}

// assembleRuntime is s2i's second stage when the runtime image has an
// assemble-runtime script: the runtime image's container (rt.ctr, read
// only until now) gets the artifact layers, the uploaded scripts go to WORKDIR/scripts, and the
// script runs there in the sandbox as the assemble-runtime user
// (--assemble-runtime-user, else the image's
// io.openshift.s2i.assemble-runtime-user label, else its USER). Then the
// runtime image is checked on the container, and its changes, split as a
// normal build's, are the two layers returned.
//
// On a reused dependency layer (reused), the script runs in the container
// of the runtime image with that layer, and the outside layer returned is
// only what the script changed there.
func (rt *runtimeImage) assembleRuntime(ctx context.Context, req Request, in runtimeInput, reused bool, arts []commit.Layer, dests []string, logf func(string, ...any)) (outside, home commit.Layer, err error) {
	o := req.Options
	ctr := rt.ctr // removed by rt.Close
	if reused {
		ctr = rt.deps.ctr
	}
	if err := layArtifacts(ctr.Root, arts); err != nil {
		return outside, home, err
	}
	workDir := rt.workDir
	user, err := rt.assembleRuntimeUser(o.AssembleRuntimeUser, ctr.Root)
	if err != nil {
		return outside, home, err
	}
	script := rt.asmRuntime.PathIn(workDir)
	if rt.asmRuntime.External() {
		if err := writeInRoot(ctr.Root, script, rt.asmRuntimeData, source.Owner{UID: int(user.UID), GID: int(user.GID)}); err != nil {
			return outside, home, err
		}
	}
	stdout := req.Stdout
	if o.Quiet {
		stdout = nil
	}
	logf("pys2i: running %s in the runtime image as %d:%d", script, user.UID, user.GID)
	err = sandbox.Run(ctx, sandbox.Spec{
		RootFS: ctr.Root, Writable: true, Args: []string{script},
		Env: processEnv(rt.cfg.Config.Env, in.BuildEnv, user.Home), Dir: workDir, UID: user.UID, GID: user.GID,
		Stdout: stdout, Stderr: req.Stderr,
		TempDir: in.Tmp, // the build's: swept with it if pys2i dies
	})
	var ee *sandbox.ExitError
	if errors.As(err, &ee) {
		return outside, home, &AssembleRuntimeError{Code: ee.Code}
	}
	if err != nil {
		return outside, home, fmt.Errorf("assemble-runtime: %w", err)
	}
	finalEnv := processEnv(rt.cfg.Config.Env, in.BuildEnv, "")
	probs, err := elfdeps.Check(elfdeps.Dir(ctr.Root), dests, elfdeps.Options{LibraryPath: splitList(envlist.Get(finalEnv, "LD_LIBRARY_PATH"))})
	if err != nil {
		return outside, home, fmt.Errorf("check the runtime image %s: %w", rt.name, err)
	}
	if len(probs) > 0 {
		return outside, home, rt.cannotRun(probs, elfdeps.Dir(in.CtrRoot), o.Builder)
	}
	return runtimeChanges(ctr, in, reused)
}

// layArtifacts extracts the artifact layers into the runtime container's root.
func layArtifacts(root string, arts []commit.Layer) error {
	for _, l := range arts {
		f, err := os.Open(l.Path)
		if err != nil {
			return fmt.Errorf("runtime artifacts: %w", err)
		}
		err = chrootarchive.UntarUncompressed(f, root, &archive.TarOptions{})
		f.Close()
		if err != nil {
			return fmt.Errorf("lay the artifacts on the runtime container: %w", err)
		}
	}
	return nil
}

// assembleRuntimeUser resolves the user assemble-runtime runs as
// (--assemble-runtime-user, else the label, else the image's USER).
func (rt *runtimeImage) assembleRuntimeUser(flag, root string) (User, error) {
	spec := flag
	if spec == "" {
		spec = rt.cfg.Config.Labels[runtimeimage.LabelAssembleRuntimeUser]
	}
	if spec == "" {
		spec = rt.cfg.Config.User
	}
	user, err := lookupUser(root, spec)
	if err != nil {
		return User{}, fmt.Errorf("assemble-runtime user: %w", err)
	}
	return user, nil
}

// runtimeChanges splits the runtime container's changes as a normal
// build's, and unmounts it.
func runtimeChanges(ctr *container.Container, in runtimeInput, reused bool) (outside, home commit.Layer, err error) {
	// Read while mounted, as in containerChanges: whiteout entries are checked there.
	diff, err := ctr.Diff()
	if err != nil {
		return outside, home, err
	}
	dir := filepath.Join(in.Tmp, "runtime-layers")
	if err := os.Mkdir(dir, 0o700); err != nil {
		diff.Close()
		return outside, home, fmt.Errorf("temp dir: %w", err)
	}
	homeDir := envlist.Get(in.BuilderEnv, "HOME")
	if homeDir == "" {
		homeDir = contract.DefaultHome
	}
	var skip map[string]bool
	if reused {
		// An overlay copies up the parents of $HOME to write in it.
		skip = ancestors(homeDir)
	}
	outside, home, _, err = commit.Split(diff, dir, commit.SplitOptions{
		Home: homeDir, Drop: sandboxArtifact, Clamp: in.Epoch, SkipDirs: skip,
		Whiteout: namedLikeWhiteouts(ctr.Root, "assemble-runtime"),
	})
	if cerr := diff.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("read runtime container changes: %w", cerr)
	}
	if err != nil {
		return outside, home, err
	}
	return outside, home, ctr.Unmount()
}

// writeInRoot writes an executable file at p inside root (parents made,
// symlinks resolved inside root), owned by owner.
func writeInRoot(root, p string, data []byte, owner source.Owner) error {
	to, err := securejoin.SecureJoin(root, p)
	if err != nil {
		return fmt.Errorf("script %s: %w", p, err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("script %s: %w", p, err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		return fmt.Errorf("script %s: %w", p, err)
	}
	return os.Chown(to, owner.UID, owner.GID)
}

// hasScript reports whether the located script s is there: uploaded, or
// present in the runtime image (image:// URLs are not checked by Locate).
func (rt *runtimeImage) hasScript(s s2iscripts.Script) bool {
	return s.External() || rt.exists(s.ImagePath)
}
