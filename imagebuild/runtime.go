package imagebuild

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"

	"github.com/pys2i/pys2i/imagebuild/assembleuser"
	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/container"
	"github.com/pys2i/pys2i/imagebuild/imageconfig"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/runtimeimage"
	"github.com/pys2i/pys2i/imagebuild/runtimeimage/elfdeps"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/imagebuild/source/s2iscripts"
	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
)

// runtimeImage is the runtime image of an extended build (--runtime-image):
// in the local store, with a container whose root the build reads to check
// that the image can run the artifacts (and where assemble-runtime runs).
type runtimeImage struct {
	name   string
	local  images.Local
	cfg    *v1.Image
	digest string
	src    types.ImageSource
	store  storage.Store
	// ctr is the runtime image's container, named as the build's with
	// runtimeSuffix and owned by this process, so that the sweep removes it
	// if pys2i dies (a mount of the image itself would outlive it for
	// good). root is its root: only assemble-runtime writes there.
	ctr  *container.Container
	root string
	// run is the run script (the committed Cmd); runData its content when
	// it is uploaded (from the source or a file:// URL) rather than in the image.
	run     s2iscripts.Script
	runData []byte
	// asmRuntime is set when the runtime image has an assemble-runtime
	// script (assembleruntime.go); asmRuntimeData as runData.
	asmRuntime     *s2iscripts.Script
	asmRuntimeData []byte
	// copies are what is copied where (plan), from origin; workDir is the
	// runtime image's WORKDIR ("/" when it has none).
	copies  []runtimeimage.Copy
	origin  runtimeimage.Origin
	workDir string
	// deps is set when a previous build's dependency layer is reused
	// (runtimereuse.go).
	deps *runtimeDeps
}

// openRuntime pulls the runtime image by --runtime-pull-policy and checks
// its user against --allowed-uids (as s2i does, with the assemble user);
// mount makes its container. nil when there is no --runtime-image.
func openRuntime(ctx context.Context, im *images.Images, o options.Options) (rt *runtimeImage, err error) {
	if o.RuntimeImage == "" {
		return nil, nil
	}
	rt = &runtimeImage{name: o.RuntimeImage}
	if rt.local, err = im.Builder(ctx, o.RuntimeImage, o.RuntimePullPolicy); err != nil {
		return nil, fmt.Errorf("runtime image: %w", err)
	}
	if rt.cfg, rt.digest, err = images.ReadConfig(ctx, im.SystemContext(), rt.local.Ref); err != nil {
		return nil, fmt.Errorf("runtime image %s: %w", o.RuntimeImage, err)
	}
	if err := assembleuser.Check(o.AllowedUIDs, o.RuntimeImage, o.AssembleUser, rt.cfg.Config.Labels, rt.cfg.Config.User, nil); err != nil {
		return nil, err
	}
	if rt.src, err = rt.local.Ref.NewImageSource(ctx, im.SystemContext()); err != nil {
		return nil, fmt.Errorf("runtime image %s: %w", o.RuntimeImage, err)
	}
	if rt.store, err = im.Store(); err != nil {
		rt.src.Close()
		return nil, err
	}
	return rt, nil
}

// mount creates and mounts the runtime image's container, named as the
// build's container (build) with runtimeSuffix. Nothing on nil.
func (rt *runtimeImage) mount(build string) error {
	if rt == nil {
		return nil
	}
	ctr, err := container.Create(rt.store, rt.local.Image.ID, build+runtimeSuffix)
	if err != nil {
		return fmt.Errorf("runtime image %s: %w", rt.name, err)
	}
	rt.ctr, rt.root = ctr, ctr.Root
	return nil
}

// Close removes the runtime image's container and closes its source. Safe
// on nil.
func (rt *runtimeImage) Close() error {
	if rt == nil {
		return nil
	}
	err := errors.Join(rt.src.Close(), rt.deps.close())
	if rt.ctr != nil {
		err = errors.Join(err, rt.ctr.Remove())
	}
	return err
}

// scripts locates run and assemble-runtime for the runtime image, as s2i
// does (--scripts-url, the source's .s2i/bin, the runtime image's label),
// and reads the uploaded ones before assemble moves the source away.
func (rt *runtimeImage) scripts(o options.Options, srcHost string, srcScripts map[string]string) error {
	found, _, err := s2iscripts.Locate(s2iscripts.Input{
		ScriptsURL: o.ScriptsURL, ImageScriptsURL: o.ImageScriptsURL,
		Labels: rt.cfg.Config.Labels, ImageEnv: rt.cfg.Config.Env, SourceScripts: srcScripts,
		HostFileExists: func(p string) bool { fi, err := os.Stat(p); return err == nil && fi.Mode().IsRegular() },
	}, []string{s2iscripts.Run, s2iscripts.AssembleRuntime}, []string{s2iscripts.Run})
	if err != nil {
		return fmt.Errorf("runtime image %s: %w", rt.name, err)
	}
	read := func(s s2iscripts.Script) ([]byte, error) {
		if !s.External() {
			return nil, nil
		}
		from := s.HostPath
		if s.Origin == s2iscripts.FromSource {
			from = filepath.Join(srcHost, s.HostPath)
		}
		b, err := os.ReadFile(from)
		if err != nil {
			return nil, fmt.Errorf("script %s: %w", s.Name, err)
		}
		return b, nil
	}
	if ar, ok := found[s2iscripts.AssembleRuntime]; ok && rt.hasScript(ar) {
		rt.asmRuntime = &ar
		if rt.asmRuntimeData, err = read(ar); err != nil {
			return err
		}
	}
	rt.run = found[s2iscripts.Run]
	rt.runData, err = read(rt.run)
	return err
}

// exists reports whether p (in the image) exists in the runtime image.
func (rt *runtimeImage) exists(p string) bool {
	_, ok, err := elfdeps.Resolve(elfdeps.Dir(rt.root), p)
	return err == nil && ok
}

// runtimeInput is what the extended build's second stage needs from the first.
type runtimeInput struct {
	CtrRoot    string // the builder container after assemble, mounted
	Tmp        string // the build's temp dir
	BuilderEnv []string
	BuildEnv   []string
	Owner      source.Owner // the assemble user: owns an uploaded run script
	Epoch      time.Time    // SOURCE_DATE_EPOCH: caps mtimes, the image's created time
}

// collect lays the artifacts from the builder container onto the runtime
// image and checks that it can run them: the layers write commits on it.
func (rt *runtimeImage) collect(ctx context.Context, req Request, in runtimeInput, logf func(string, ...any)) (collected, error) {
	host := builderPaths(in.CtrRoot, rt.origin)
	home := envlist.Get(in.BuilderEnv, "HOME")
	if home == "" {
		home = contract.DefaultHome
	}
	layers := filepath.Join(in.Tmp, "layers")
	if err := os.Mkdir(layers, 0o700); err != nil {
		return collected{}, fmt.Errorf("temp dir: %w", err)
	}
	deps, outside, err := rt.depsLayer(in, host, home, layers, logf)
	if err != nil {
		return collected{}, err
	}
	if err := rt.check(in, host, rt.checked(deps != nil, home), req.Options.Builder, logf); err != nil {
		return collected{}, err
	}
	runCmd, homeLayer, err := rt.homeLayer(in, host, home, layers)
	if err != nil {
		return collected{}, err
	}
	if rt.asmRuntime != nil {
		outside, homeLayer, err = rt.assembleRuntime(ctx, req, in, deps != nil, []commit.Layer{outside, homeLayer}, rt.dests(), logf)
		if err != nil {
			return collected{}, err
		}
	}
	meta, err := readMetadata(in.CtrRoot)
	if err != nil {
		return collected{}, err
	}
	return collected{
		layers:  commit.Input{Base: rt.src, Outside: outside, Home: homeLayer, HomeDir: home, Deps: deps.reused()},
		baseCfg: rt.cfg, runScript: runCmd, meta: meta, deps: deps, runtime: rt,
	}, nil
}

// checked are the paths the runtime image is checked on. A reused
// dependency layer passed the check when it was made, on the same runtime
// image: only the application is checked again.
func (rt *runtimeImage) checked(reused bool, home string) []string {
	if !reused {
		return rt.dests()
	}
	var checked []string
	for _, p := range homeOnly(rt.copies, home) {
		checked = append(checked, p.Dest)
	}
	return checked
}

// homeLayer is the application layer: the copies' parts in $HOME, and an
// uploaded run script; runCmd is the committed Cmd.
func (rt *runtimeImage) homeLayer(in runtimeInput, host func(string) (string, error), home, layers string) (string, commit.Layer, error) {
	runCmd, runPart, err := rt.runScript(in)
	if err != nil {
		return "", commit.Layer{}, err
	}
	homeDirs, err := rt.dirParts(host, homeOnly(rt.copies, home), home, in.CtrRoot, newPresentInRuntime(rt.root), false)
	if err != nil {
		return "", commit.Layer{}, err
	}
	if runPart != nil {
		homeDirs = append(homeDirs, *runPart)
	}
	homeLayer, err := commit.DirLayer(filepath.Join(layers, "home.tar"), nil, homeDirs, in.Epoch)
	if err != nil {
		return "", commit.Layer{}, fmt.Errorf("runtime artifacts: %w", err)
	}
	return runCmd, homeLayer, nil
}

// builderPaths returns where a path of the builder container is on the
// host (its parent resolved inside the root, the last element not
// followed), which must exist; results are cached.
func builderPaths(root string, origin runtimeimage.Origin) func(string) (string, error) {
	hosts := map[string]string{}
	return func(p string) (string, error) {
		if h, ok := hosts[p]; ok {
			return h, nil
		}
		dir, err := securejoin.SecureJoin(root, path.Dir(p))
		if err != nil {
			return "", fmt.Errorf("runtime artifact %s: %w", p, err)
		}
		h := filepath.Join(dir, path.Base(p))
		if _, err := os.Lstat(h); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("runtime artifact %s (from %s): no such file or directory in the builder after assemble", p, origin)
			}
			return "", fmt.Errorf("runtime artifact %s: %w", p, err)
		}
		hosts[p] = h
		return h, nil
	}
}

// dests are the copies' destinations in the runtime image.
func (rt *runtimeImage) dests() []string {
	var out []string
	for _, c := range rt.copies {
		out = append(out, c.Dest)
	}
	return out
}

// check logs the copies and checks that the runtime image can run what is
// at dests (with assemble-runtime, on its result instead: assembleruntime.go).
func (rt *runtimeImage) check(in runtimeInput, host func(string) (string, error), dests []string, builderName string, logf func(string, ...any)) error {
	view := elfdeps.Overlay{Lower: elfdeps.Dir(rt.root)}
	for _, c := range rt.copies {
		h, err := host(c.Source)
		if err != nil {
			return err
		}
		logf("pys2i: runtime image %s: copying %s to %s (%s)", rt.name, c.Source, c.Dest, rt.origin)
		view.Mounts = append(view.Mounts, elfdeps.Mount{At: c.Dest, Root: elfdeps.Dir(h)})
	}
	if rt.asmRuntime == nil {
		finalEnv := processEnv(rt.cfg.Config.Env, in.BuildEnv, "")
		probs, err := elfdeps.Check(view, dests, elfdeps.Options{LibraryPath: splitList(envlist.Get(finalEnv, "LD_LIBRARY_PATH"))})
		if err != nil {
			return fmt.Errorf("check the runtime image %s: %w", rt.name, err)
		}
		if len(probs) > 0 {
			return rt.cannotRun(probs, elfdeps.Dir(in.CtrRoot), builderName)
		}
	}
	if rt.run.ImagePath != "" && !rt.exists(rt.run.ImagePath) {
		logf("warning: the runtime image %s has no run script %s (its Cmd)", rt.name, rt.run.ImagePath)
	}
	return nil
}

// runScript is the committed Cmd, and, for an uploaded run script, the
// layer part that puts it at WORKDIR/scripts/run (as s2i does).
func (rt *runtimeImage) runScript(in runtimeInput) (string, *commit.DirPart, error) {
	if !rt.run.External() {
		return rt.run.ImagePath, nil, nil
	}
	scripts := filepath.Join(in.Tmp, "runtime-scripts")
	if err := writeOwned(scripts, s2iscripts.Run, rt.runData, in.Owner); err != nil {
		return "", nil, err
	}
	runCmd := path.Join(rt.workDir, "scripts", s2iscripts.Run)
	return runCmd, &commit.DirPart{Host: scripts, Name: path.Dir(runCmd)}, nil
}

// homeOnly are the parts of the copies in the application layer.
func homeOnly(copies []runtimeimage.Copy, home string) []runtimeimage.Part {
	_, h := runtimeimage.Split(copies, home)
	return h
}

// depsLayer is the dependency layer: the reused one (returned as deps,
// with an empty outside layer) when assemble left what it restored as it
// was, else what is outside $HOME among the copies, less what the runtime
// image has already.
func (rt *runtimeImage) depsLayer(in runtimeInput, host func(string) (string, error), home, dir string, logf func(string, ...any)) (*depsReuse, commit.Layer, error) {
	outsideParts, _ := runtimeimage.Split(rt.copies, home)
	file := filepath.Join(dir, "outside.tar")
	if d := rt.deps; d != nil {
		parts, err := rt.dirParts(host, outsideParts, home, in.CtrRoot, newPresentInRuntime(d.ctr.Root), true)
		if err != nil {
			return nil, commit.Layer{}, err
		}
		changed, err := commit.DirLayer(file, nil, parts, in.Epoch)
		if err != nil {
			return nil, commit.Layer{}, fmt.Errorf("runtime artifacts: %w", err)
		}
		gone := d.removed(in.CtrRoot)
		if changed.Entries == 0 && gone == "" {
			return d.reuse, changed, nil
		}
		why := fmt.Sprintf("%d changed or new, such as /%s", changed.Entries, firstEntry(changed.Path))
		if gone != "" {
			why = gone + " removed"
		}
		logf("pys2i: assemble changed the reused dependencies (%s): writing the dependency layer again", why)
	}
	parts, err := rt.dirParts(host, outsideParts, home, in.CtrRoot, newPresentInRuntime(rt.root), false)
	if err != nil {
		return nil, commit.Layer{}, err
	}
	dirs := rt.copies
	if rt.run.External() {
		dirs = append(dirs, runtimeimage.Copy{Dest: path.Join(rt.workDir, "scripts", s2iscripts.Run)})
	}
	parents := runtimeimage.Parents(dirs, func(d string) bool {
		p, err := securejoin.SecureJoin(rt.root, d)
		if err != nil {
			return false
		}
		fi, err := os.Stat(p)
		return err == nil && fi.IsDir()
	})
	outside, err := commit.DirLayer(file, parents, parts, in.Epoch)
	if err != nil {
		return nil, commit.Layer{}, fmt.Errorf("runtime artifacts: %w", err)
	}
	return nil, outside, nil
}

// firstEntry is the name of the first entry of the layer tar at file.
func firstEntry(file string) string {
	f, err := os.Open(file)
	if err != nil {
		return "?"
	}
	defer f.Close()
	hdr, err := tar.NewReader(f).Next()
	if err != nil {
		return "?"
	}
	return strings.TrimSuffix(hdr.Name, "/")
}

// dirParts are the layer parts of the copies' parts: each from the builder
// container, less its excluded paths and the files present has already
// (with dirsToo, the entries of the directories it has with the same mode
// and owner too: their content is still compared).
func (rt *runtimeImage) dirParts(host func(string) (string, error), parts []runtimeimage.Part, home, ctrRoot string,
	present *presentInRuntime, dirsToo bool) ([]commit.DirPart, error) {
	var out []commit.DirPart
	for _, p := range parts {
		if p.Source == path.Clean(home) && !slices.ContainsFunc(rt.copies, func(c runtimeimage.Copy) bool { return c.Source == p.Source }) {
			// $HOME split off a copy: a builder may have no $HOME.
			if d, err := securejoin.SecureJoin(ctrRoot, p.Source); err == nil {
				if _, err := os.Lstat(d); errors.Is(err, fs.ErrNotExist) {
					continue
				}
			}
		}
		h, err := host(p.Source)
		if err != nil {
			return nil, err
		}
		var excl []string
		for _, e := range p.Exclude {
			excl = append(excl, strings.TrimPrefix(strings.TrimPrefix(e, p.Source), "/"))
		}
		dest := p.Dest
		part := commit.DirPart{Host: h, Name: dest, Exclude: func(rel string, isDir bool) bool {
			if slices.Contains(excl, rel) {
				return true
			}
			return !isDir && present.exclude(filepath.Join(h, filepath.FromSlash(rel)), path.Join(dest, rel))
		}}
		if dirsToo {
			part.OmitDir = func(rel string) bool {
				return present.sameDir(filepath.Join(h, filepath.FromSlash(rel)), path.Join(dest, rel))
			}
		}
		out = append(out, part)
	}
	return out, nil
}

// cannotRun is the error naming what the runtime image lacks, what needs
// it, and the builder's package that has it.
func (rt *runtimeImage) cannotRun(probs []elfdeps.Problem, builder elfdeps.Root, builderName string) error {
	var b strings.Builder
	var pkgs []string
	fmt.Fprintf(&b, "the runtime image %s cannot run the build's artifacts:", rt.name)
	for _, p := range probs {
		fmt.Fprintf(&b, "\n  runtime image lacks %s", strings.TrimPrefix(p.String(), "lacks "))
		where := p.Missing
		if p.Library {
			w, err := elfdeps.Locate(builder, p.Missing, elfdeps.Options{})
			if err != nil || w == "" {
				fmt.Fprintf(&b, " (the builder %s has no such library either)", builderName)
				continue
			}
			where = w
		}
		res, ok, _ := elfdeps.Resolve(builder, where)
		pkg, _ := elfdeps.DpkgOwner(builder, where, res)
		if ok {
			where = res
		}
		if pkg != "" {
			fmt.Fprintf(&b, ": install %s (the builder's package with %s)", pkg, where)
			if !slices.Contains(pkgs, pkg) {
				pkgs = append(pkgs, pkg)
			}
		} else if p.Library {
			fmt.Fprintf(&b, ": the builder has it at %s", where)
		}
	}
	if len(pkgs) > 0 {
		fmt.Fprintf(&b, "\nadd them to the runtime image (a Containerfile FROM it with RUN apt-get install -y %s), or use another --runtime-image", strings.Join(pkgs, " "))
	} else {
		b.WriteString("\nadd what is missing to the runtime image (a Containerfile FROM it that installs it), or use another --runtime-image")
	}
	return errors.New(b.String())
}

// writeOwned writes dir/name (0755) and dir (0755), owned by owner.
func writeOwned(dir, name string, data []byte, owner source.Owner) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("script %s: %w", name, err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o755); err != nil {
		return fmt.Errorf("script %s: %w", name, err)
	}
	for _, f := range []string{dir, p} {
		if err := os.Chown(f, owner.UID, owner.GID); err != nil {
			return fmt.Errorf("script %s: %w", name, err)
		}
	}
	return nil
}

// readMetadata reads image_metadata.json from the builder container, if
// assemble wrote it.
func readMetadata(root string) ([]byte, error) {
	p, err := securejoin.SecureJoin(root, imageconfig.MetadataPath)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", imageconfig.MetadataPath, err)
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", imageconfig.MetadataPath, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(f, commit.MaxCapture+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", imageconfig.MetadataPath, err)
	}
	if len(b) > commit.MaxCapture {
		return nil, fmt.Errorf("%s is larger than %d bytes", imageconfig.MetadataPath, commit.MaxCapture)
	}
	return b, nil
}

func splitList(v string) []string {
	var out []string
	for _, d := range strings.Split(v, ":") {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}
