// Package imagebuild is the daemonless S2I build: the builder image from the
// local store (pulled if needed), a container of it mounted from the store,
// the source and scripts injected, assemble run in a sandbox as the assemble
// user, and the container's changes committed as two new layers on the
// builder's, written to the output reference in any transport.
//
// Whatever happens (a failing assemble, a signal, a bad output), the
// container, its layer, its mount and the temporary files are removed, and
// no image is written unless the build succeeded.
package imagebuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/image/v5/signature"

	"github.com/pys2i/pys2i/imagebuild/assembleuser"
	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/container"
	"github.com/pys2i/pys2i/imagebuild/imageconfig"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/options/buildenv"
	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/imagebuild/source/s2iscripts"
	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
	"github.com/pys2i/pys2i/internal/redact"
)

// defaultPath is the PATH a container runtime gives an image without one.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Request is one build.
type Request struct {
	Options options.Options
	Images  *images.Images
	// Stdout and Stderr receive assemble's output, live; Log receives the
	// build's own progress lines. nil discards.
	Stdout, Stderr, Log io.Writer
	// Now gives the image's creation time; nil means SOURCE_DATE_EPOCH.
	Now func() time.Time
	// SourceDateEpoch is the caller's SOURCE_DATE_EPOCH, used when the
	// build env (-e) sets none ("" for DefaultEpoch): the image's creation
	// time and the cap on the new layers' modification times.
	SourceDateEpoch string
}

// Result describes a finished build.
type Result struct {
	Tag string // the output reference as given
	// Setup is the time from the start to assemble's start (builder,
	// container, source), Assemble assemble's run, sandbox included, and
	// Commit the rest (changes read, split, image written).
	Setup, Assemble, Commit time.Duration
	// Labels are the image's labels (for --callback-url).
	Labels map[string]string
}

// Outside is the time the build spent outside assemble.
func (r Result) Outside() time.Duration { return r.Setup + r.Commit }

// AssembleError reports that assemble ran and failed with Code.
type AssembleError struct{ Code int }

func (e *AssembleError) Error() string {
	return fmt.Sprintf("assemble failed with exit status %d", e.Code)
}

// Run does the build.
func Run(ctx context.Context, req Request) (res Result, err error) {
	start := time.Now()
	o := req.Options
	logw := orDiscard(req.Log)
	logf := func(format string, args ...any) {
		fmt.Fprintln(logw, redact.URL(fmt.Sprintf(format, args...)))
	}
	debugf := func(format string, args ...any) {
		if o.LogLevel >= 2 {
			logf("pys2i: %v: "+format, append([]any{time.Since(start).Round(time.Millisecond)}, args...)...)
		}
	}
	if o.Tag == "" {
		return res, errors.New("a TAG is needed: pys2i does not write untagged images")
	}
	if _, err := source.Check(o.Source); err != nil {
		return res, err
	}
	given, err := checkEnvEarly(o, logf)
	if err != nil {
		return res, err
	}
	im := req.Images
	outRef, err := im.OutputRef(o.Tag)
	if err != nil {
		return res, fmt.Errorf("invalid TAG: %w", err)
	}
	// Before any work: an output that cannot be written fails now, not
	// after assemble.
	if err := im.CheckOutput(ctx, outRef); err != nil {
		return res, err
	}

	builder, err := im.Builder(ctx, o.Builder, o.PullPolicy)
	if err != nil {
		return res, fmt.Errorf("builder: %w", err)
	}
	baseSrc, err := builder.Ref.NewImageSource(ctx, im.SystemContext())
	if err != nil {
		return res, fmt.Errorf("builder %s: %w", o.Builder, err)
	}
	defer baseSrc.Close()
	baseCfg, baseDigest, err := images.ReadConfig(ctx, im.SystemContext(), builder.Ref)
	if err != nil {
		return res, fmt.Errorf("builder %s: %w", o.Builder, err)
	}
	labels := baseCfg.Config.Labels

	userSpec := assembleuser.Resolve(o.AssembleUser, labels, baseCfg.Config.User)
	onBuild, err := builderOnBuild(ctx, im.SystemContext(), builder.Ref, o.AllowedUIDs, logf)
	if err != nil {
		return res, err
	}
	if err := assembleuser.Check(o.AllowedUIDs, o.Builder, o.AssembleUser, labels, baseCfg.Config.User, onBuild); err != nil {
		return res, err
	}

	rt, err := openRuntime(ctx, im, o) // runtime.go: --runtime-image
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, rt.Close()) }()

	tmp, err := os.MkdirTemp("", "pys2i-build-")
	if err != nil {
		return res, fmt.Errorf("temp dir: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove temp dir: %w", rerr))
		}
	}()

	store, err := im.Store()
	if err != nil {
		return res, err
	}
	sweepStale(store, logf)
	if err := rt.mount(filepath.Base(tmp)); err != nil {
		return res, err
	}
	ctr, err := container.Create(store, builder.Image.ID, filepath.Base(tmp)) // "pys2i-build-…", as its temp dir
	if err != nil {
		return res, err
	}
	defer func() {
		if rerr := ctr.Remove(); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	logf("pys2i: building with %s (%s) in container %.12s", o.Builder, baseDigest, ctr.ID)

	user, err := lookupUser(ctr.Root, userSpec)
	if err != nil {
		return res, err
	}
	dest := s2iscripts.Destination(o.Destination, labels, baseCfg.Config.Env)
	srcIn := path.Join(dest, "src")
	srcHost, err := securejoin.SecureJoin(ctr.Root, srcIn)
	if err != nil {
		return res, fmt.Errorf("source destination %s: %w", srcIn, err)
	}
	owner := &source.Owner{UID: int(user.UID), GID: int(user.GID)}
	srcOpts := source.Options{
		Source: o.Source, Ref: o.Ref, ContextDir: o.ContextDir, Exclude: o.Exclude,
		IgnoreSubmodules: o.IgnoreSubmodules, Owner: owner,
	}
	info, err := source.Prepare(ctx, srcOpts, srcHost)
	if err != nil {
		return res, err
	}
	for _, s := range info.Skipped {
		logf("warning: source file %s is a %s: left out of the build (an image layer holds no such files)", s.Path, s.Kind)
	}
	env, warns, err := buildenv.WithSource(srcHost, given)
	for _, w := range warns {
		logf("warning: %s", w)
	}
	if err != nil {
		return res, err
	}
	if err := rt.plan(o, baseCfg.Config.Env); err != nil {
		return res, err
	}
	home := envlist.Get(baseCfg.Config.Env, "HOME")
	if home == "" {
		home = contract.DefaultHome
	}
	lin := rt.lineage(baseCfg.RootFS.DiffIDs)
	preEnv := processEnv(baseCfg.Config.Env, env.Strings(), user.Home)
	prev, reuse, err := planReuse(ctx, im, store, o, lin, rt.topLayer(builder.Image.TopLayer), srcHost, preEnv, userKey(user), logf)
	if err != nil {
		return res, err
	}
	switch {
	case reuse != nil && rt != nil:
		// The dependency layer is the runtime image's: it is laid back into
		// the builder container.
		if err := rt.restoreDeps(reuse, filepath.Base(tmp), ctr.Root, home, stateDir(preEnv), *owner); err != nil {
			return res, err
		}
	case reuse != nil:
		c, h, i, err := reuse.rebase(ctx, store, ctr, filepath.Base(tmp), srcIn, srcOpts)
		if err != nil {
			return res, err
		}
		ctr, srcHost, info = c, h, i
	}
	srcScripts, err := s2iscripts.ListSource(srcHost)
	if err != nil {
		return res, err
	}
	scripts, warns, err := s2iscripts.Locate(s2iscripts.Input{
		ScriptsURL: o.ScriptsURL, ImageScriptsURL: o.ImageScriptsURL,
		Labels: labels, ImageEnv: baseCfg.Config.Env, SourceScripts: srcScripts,
		HostFileExists: func(p string) bool { fi, err := os.Stat(p); return err == nil && fi.Mode().IsRegular() },
	}, scriptNames(o.Incremental), []string{s2iscripts.Assemble, s2iscripts.Run})
	for _, w := range warns {
		logf("warning: %s", w)
	}
	if err != nil {
		return res, err
	}
	if rt != nil {
		if err := rt.scripts(o, srcHost, srcScripts); err != nil {
			return res, err
		}
	}
	for _, s := range scripts {
		if s.External() {
			if err := injectScript(ctr.Root, srcHost, dest, s, owner); err != nil {
				return res, err
			}
		}
	}

	ex, err := prepareExtras(o, ctr.Root, baseCfg.Config.WorkingDir, owner.UID, owner.GID)
	if err != nil {
		return res, err
	}
	epoch, err := buildEpoch(req, env.Strings())
	if err != nil {
		return res, err
	}
	procEnv := processEnv(baseCfg.Config.Env, env.Strings(), user.Home)
	procEnv = append(procEnv, epochEnv(procEnv, epoch)...)
	if reuse != nil {
		procEnv = append(procEnv, contract.EnvDepsInPlace+"="+contract.On)
	}
	state := stateDir(procEnv)
	cacheMounts, releaseCache, err := pipCacheMount(ctr.Root, pipCacheDir(store.GraphRoot(), o.Tag), state, procEnv, owner.UID, owner.GID, o.Incremental)
	if err != nil {
		return res, err
	}
	defer releaseCache()
	if cacheMounts != nil {
		procEnv = append(procEnv, contract.EnvKeepCache+"="+contract.On)
		prunePipCaches(store.GraphRoot(), o, time.Now(), logf)
	}
	if o.Incremental && reuse == nil && prev != nil {
		if err := (saveArtifactsRun{store: store, prev: *prev, script: scripts[s2iscripts.SaveArtifacts], dest: dest,
			env: procEnv, dir: baseCfg.Config.WorkingDir, uid: user.UID, gid: user.GID, srcHost: srcHost, tmp: tmp,
			stderr: req.Stderr, logf: logf}).run(ctx, ctr.Root); err != nil {
			return res, err
		}
	}
	dir := baseCfg.Config.WorkingDir
	stdout := req.Stdout
	if o.Quiet {
		stdout = nil
	}
	logf("pys2i: running %s as %d:%d", scripts[s2iscripts.Assemble].PathIn(dest), user.UID, user.GID)
	aStart := time.Now()
	res.Setup = aStart.Sub(start)
	spec := sandbox.Spec{
		RootFS: ctr.Root, Writable: true,
		Args: []string{scripts[s2iscripts.Assemble].PathIn(dest)},
		Env:  procEnv, Dir: dir, UID: user.UID, GID: user.GID,
		Stdout: stdout, Stderr: req.Stderr, TempDir: tmp, Mounts: cacheMounts,
	}
	ex.apply(&spec)
	err = sandbox.Run(ctx, spec)
	if terr := ex.truncateInjected(); terr != nil {
		err = errors.Join(err, terr)
	}
	res.Assemble = time.Since(aStart)
	cStart := time.Now()
	var ee *sandbox.ExitError
	if errors.As(err, &ee) {
		return res, &AssembleError{Code: ee.Code}
	}
	if err != nil {
		return res, fmt.Errorf("assemble: %w", err)
	}

	debugf("assemble done")
	recorded, err := recordedFingerprint(ctr.Root, state)
	if err != nil {
		return res, err
	}
	if rt != nil {
		return rt.finish(ctx, req, res, runtimeInput{
			CtrRoot: ctr.Root, Tmp: tmp, BuilderEnv: baseCfg.Config.Env, BuilderDigest: baseDigest,
			BuildEnv: env.Strings(), Source: info, Owner: *owner, Start: cStart, Epoch: epoch,
			Recorded: recorded, User: userKey(user), Lineage: lin,
		}, logf)
	}
	// The changes are read from the driver's own files while the root is
	// still mounted (assemble is gone: nothing changes them), so that a
	// whiteout entry can be told from a file named like one.
	diff, err := ctr.Diff()
	if err != nil {
		return res, err
	}
	layers := filepath.Join(tmp, "layers")
	if err := os.Mkdir(layers, 0o700); err != nil {
		diff.Close()
		return res, fmt.Errorf("temp dir: %w", err)
	}
	dropSrc := strings.Trim(srcIn, "/")
	outside, homeLayer, meta, err := commit.Split(diff, layers, commit.SplitOptions{
		Home:     home,
		Capture:  imageconfig.MetadataPath,
		Clamp:    epoch,
		SkipDirs: skipDirs(reuse, home, srcIn, state),
		Whiteout: namedLikeWhiteouts(ctr.Root, "assemble"),
		Drop: func(rel string) bool {
			// The injected source is an input: what assemble left of it is
			// not part of the image (its copy in $HOME is).
			return rel == dropSrc || strings.HasPrefix(rel, dropSrc+"/") || sandboxArtifact(rel) || ex.dropped(rel) ||
				dropInput(rel, cacheMounts, o.Incremental, dest)
		},
	})
	if cerr := diff.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("read container changes: %w", cerr)
	}
	if err != nil {
		return res, err
	}
	if err := ctr.Unmount(); err != nil {
		return res, err
	}

	debugf("changes split: %d + %d bytes", outside.Size, homeLayer.Size)
	created := epoch
	cfg, ann, err := imageconfig.Build(*baseCfg, imageconfig.Facts{
		RunScript: scripts[s2iscripts.Run].PathIn(dest),
		BuildEnv:  env.Strings(), Source: info,
		BuilderName: o.Builder, BuilderDigest: baseDigest,
		Tag: o.Tag, AppName: o.AppName, Description: o.Description,
		Created: created, Metadata: meta, ExtraLabels: depsLabels(recorded, reuse, outside, userKey(user), lin),
	})
	if err != nil {
		return res, err
	}
	res.Labels = cfg.Config.Labels
	ref, err := commit.Image(ctx, commit.Input{
		Base: baseSrc, Config: cfg, Annotations: ann,
		Outside: outside, Home: homeLayer, HomeDir: home, Created: created,
		Deps: reuse.reused(),
	})
	if err != nil {
		return res, err
	}
	logf("pys2i: writing %s", o.Tag)
	// The source is the image just built here: the signature policy is for
	// images from elsewhere.
	accept := &signature.Policy{Default: signature.PolicyRequirements{signature.NewPRInsecureAcceptAnything()}}
	if err := im.Copy(ctx, outRef, ref, accept); err != nil {
		return res, fmt.Errorf("write the image to %s: %w", o.Tag, err)
	}
	debugf("image written")
	if o.Incremental && o.RemovePrevious && prev != nil {
		removePrevious(store, *prev, outRef, logf)
	}
	res.Tag = o.Tag
	res.Commit = time.Since(cStart)
	return res, nil
}

// checkEnvEarly checks the build env before anything is pulled or created
// and returns the -e and -E part: the source's .s2i/environment too when it
// can be read where it is (a local directory), else it is checked (again)
// once the source is copied.
func checkEnvEarly(o options.Options, logf func(string, ...any)) (buildenv.Env, error) {
	given, warns, err := buildenv.FromFlags(o.Env, o.EnvFiles)
	for _, w := range warns {
		logf("warning: %s", w)
	}
	if err != nil {
		return nil, err
	}
	src := source.Options{Source: o.Source, Ref: o.Ref, ContextDir: o.ContextDir, Exclude: o.Exclude}
	if dir := source.LocalContext(src, ".s2i", ".s2i/environment"); dir != "" {
		if _, _, err := buildenv.WithSource(dir, given); err != nil {
			return nil, err
		}
	}
	return given, nil
}

// processEnv is assemble's environment: the image's Env with the build env
// over it, plus HOME and PATH as a container runtime adds them when missing.
func processEnv(image, build []string, home string) []string {
	env := buildenv.Env{}
	for _, kv := range append(append([]string{}, image...), build...) {
		name, val, _ := strings.Cut(kv, "=")
		env = append(env, buildenv.Var{Name: name, Value: val})
	}
	env = buildenv.Merge(env)
	out := env.Strings()
	if envlist.Get(out, "HOME") == "" {
		if home == "" {
			home = "/"
		}
		out = append(out, "HOME="+home)
	}
	if envlist.Get(out, "PATH") == "" {
		out = append(out, defaultPath)
	}
	return out
}

// injectScript copies an uploaded script (from the source's .s2i/bin or a
// file:// URL) to DEST/scripts/NAME in the container, executable, owned by
// the assemble user, as s2i uploads it.
func injectScript(root, srcHost, dest string, s s2iscripts.Script, owner *source.Owner) error {
	from := s.HostPath
	if s.Origin == s2iscripts.FromSource {
		from = filepath.Join(srcHost, s.HostPath)
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("script %s: %w", s.Name, err)
	}
	to, err := securejoin.SecureJoin(root, s.PathIn(dest))
	if err != nil {
		return fmt.Errorf("script %s: %w", s.Name, err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("script %s: %w", s.Name, err)
	}
	if err := os.Chown(filepath.Dir(to), owner.UID, owner.GID); err != nil {
		return fmt.Errorf("script %s: %w", s.Name, err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		return fmt.Errorf("script %s: %w", s.Name, err)
	}
	if err := os.Chown(to, owner.UID, owner.GID); err != nil {
		return fmt.Errorf("script %s: %w", s.Name, err)
	}
	return nil
}

// sandboxArtifact reports whether rel is something the sandbox itself may
// have created in the root as a mount point (files under /dev and /proc
// live in its own mounts; /etc/hosts and /etc/resolv.conf are the host's).
func sandboxArtifact(rel string) bool {
	switch rel {
	case "etc/hosts", "etc/resolv.conf":
		return true
	}
	return strings.HasPrefix(rel, "dev/") || strings.HasPrefix(rel, "proc/") || strings.HasPrefix(rel, "sys/")
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
