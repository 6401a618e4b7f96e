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
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"

	"github.com/pys2i/pys2i/imagebuild/assembleuser"
	"github.com/pys2i/pys2i/imagebuild/container"
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
	// Tool names the producer in the image's SBOM ("pys2i VERSION").
	Tool string
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
	// Digest is the written manifest's, Size the image's bytes where it
	// was written (manifest, config and layers as stored).
	Digest string
	Size   int64
}

// Outside is the time the build spent outside assemble.
func (r Result) Outside() time.Duration { return r.Setup + r.Commit }

// AssembleError reports that assemble ran and failed with Code. The build
// then exits 1, as any failure: s2i always says 13, while the status in the
// message is what helps.
type AssembleError struct{ Code int }

func (e *AssembleError) Error() string {
	return fmt.Sprintf("assemble failed with exit status %d", e.Code)
}

// build is one build's state, filled in by Run's phases in order.
type build struct {
	req          Request
	o            options.Options
	im           *images.Images
	start        time.Time
	res          Result
	logf, debugf func(string, ...any)
	phase        string // the phase running, for a failure's reason
	// cleanups undo what the phases set up, the last first (close); each
	// gets and returns the build's error, as a deferred function would.
	cleanups []func(error) error

	// resolve
	given      buildenv.Env
	outRef     types.ImageReference
	builder    images.Local
	baseSrc    types.ImageSource
	baseCfg    *v1.Image
	baseDigest string
	labels     map[string]string
	userSpec   string
	rt         *runtimeImage // --runtime-image; nil without
	ip         *inPlace      // --in-place; nil without
	// openContainer (or openInPlace)
	root  string // the filesystem assemble runs on: the container's, or "/" in place
	tmp   string
	store storage.Store
	ctr   *container.Container
	// prepareSource
	user                 User
	owner                *source.Owner
	dest, srcIn, srcHost string
	srcOpts              source.Options
	info                 source.Info
	env                  buildenv.Env
	home                 string
	lin                  lineage
	prev                 *images.Local
	reuse                *depsReuse
	// placeScripts
	scripts map[string]s2iscripts.Script
	// assemble
	ex          *extras
	epoch       time.Time
	procEnv     []string
	state       string
	cacheMounts []sandbox.Mount
	cStart      time.Time // of the commit phase
	recorded    string    // the dependency fingerprint assemble left, "" for none
}

// Run does the build, phase by phase; whatever happens, close then undoes
// what the phases set up (containers, mounts, temp dir), the last first,
// and report sends the outcome to --callback-url.
func Run(ctx context.Context, req Request) (res Result, err error) {
	b := newBuild(req)
	defer func() {
		err = b.close(err)
		b.report(ctx, err)
	}()
	for _, p := range b.phases() {
		b.phase = p.name
		if err := p.run(ctx); err != nil {
			return b.res, err
		}
	}
	return b.res, nil
}

// phase is one of Run's steps; its name makes a failure's reason.
type phase struct {
	name string
	run  func(context.Context) error
}

// phases are the build's phases: all of them, or one --in-place step's.
func (b *build) phases() []phase {
	resolve, setup, src := phase{"Resolve", b.resolve}, phase{"Setup", b.open}, phase{"Source", b.prepareSource}
	scripts, asm := phase{"Scripts", b.placeScripts}, phase{"Assemble", b.assemble}
	switch b.o.InPlaceStep {
	case options.StepPrepare:
		return []phase{resolve, setup, src, {"Prepare", b.savePlan}}
	case options.StepAssemble:
		return []phase{resolve, setup, src, scripts, asm, {"Collect", b.collectAndSave}}
	case options.StepExport:
		return []phase{resolve, setup, {"Write", b.loadAndWrite}}
	}
	return []phase{resolve, setup, src, scripts, asm, {"Write", b.collectAndWrite}}
}

// collectAndWrite reads the layers assemble made and writes the image.
func (b *build) collectAndWrite(ctx context.Context) error {
	added, err := b.collectWithSBOM(ctx)
	if err != nil {
		return err
	}
	return b.write(ctx, added)
}

// collectWithSBOM collects the layers assemble made and adds the SBOM's,
// read from the roots before the collector lets them go.
func (b *build) collectWithSBOM(ctx context.Context) (collected, error) {
	inv, err := b.inventory()
	if err != nil {
		return collected{}, err
	}
	added, err := b.collector().collect(ctx)
	if err != nil {
		return collected{}, err
	}
	dir := b.tmp
	if b.ip != nil {
		dir = filepath.Join(b.ip.work, "layers")
	}
	added.layers.Generated, err = b.sbomLayer(inv, dir)
	return added, err
}

func newBuild(req Request) *build {
	b := &build{req: req, o: req.Options, im: req.Images, start: time.Now()}
	logw := orDiscard(req.Log)
	b.logf = func(format string, args ...any) {
		fmt.Fprintln(logw, redact.URL(fmt.Sprintf(format, args...)))
	}
	b.debugf = func(format string, args ...any) {
		if b.o.LogLevel >= 2 {
			b.logf("pys2i: %v: "+format, append([]any{time.Since(b.start).Round(time.Millisecond)}, args...)...)
		}
	}
	return b
}

// onClose adds a cleanup, run before those added earlier.
func (b *build) onClose(f func(error) error) { b.cleanups = append(b.cleanups, f) }

// close runs the cleanups, the last added first, and returns err with
// their errors.
func (b *build) close(err error) error {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		err = b.cleanups[i](err)
	}
	return err
}

// resolve checks the request and brings the builder (and runtime image)
// into reach: everything that can fail before a container exists.
func (b *build) resolve(ctx context.Context) error {
	o := b.o
	if o.Tag == "" {
		return errors.New("a TAG is needed: pys2i does not write untagged images")
	}
	if _, err := source.Check(o.Source); err != nil {
		return err
	}
	given, err := checkEnvEarly(o, b.logf)
	if err != nil {
		return err
	}
	b.given = given
	if o.InPlace {
		return b.resolveInPlace(ctx)
	}
	im := b.im
	outRef, err := im.OutputRef(o.Tag)
	if err != nil {
		return fmt.Errorf("invalid TAG: %w", err)
	}
	b.outRef = outRef
	// Before any work: an output that cannot be written fails now, not
	// after assemble.
	if err := im.CheckOutput(ctx, outRef); err != nil {
		return err
	}
	if err := b.openBuilder(ctx); err != nil {
		return err
	}
	rt, err := openRuntime(ctx, im, o) // runtime.go: --runtime-image
	if err != nil {
		return err
	}
	b.rt = rt
	b.onClose(func(err error) error { return errors.Join(err, rt.Close()) })
	return nil
}

// openBuilder pulls (by policy) and inspects the builder, and checks its
// assemble user and ONBUILD instructions against --allowed-uids.
func (b *build) openBuilder(ctx context.Context) error {
	o, im := b.o, b.im
	builder, err := im.Builder(ctx, o.Builder, o.PullPolicy)
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	b.builder = builder
	baseSrc, err := builder.Ref.NewImageSource(ctx, im.SystemContext())
	if err != nil {
		return fmt.Errorf("builder %s: %w", o.Builder, err)
	}
	b.baseSrc = baseSrc
	b.onClose(func(err error) error { baseSrc.Close(); return err })
	baseCfg, baseDigest, err := images.ReadConfig(ctx, im.SystemContext(), builder.Ref)
	if err != nil {
		return fmt.Errorf("builder %s: %w", o.Builder, err)
	}
	b.baseCfg, b.baseDigest = baseCfg, baseDigest
	labels := baseCfg.Config.Labels
	b.labels = labels

	b.userSpec = assembleuser.Resolve(o.AssembleUser, labels, baseCfg.Config.User)
	onBuild, err := builderOnBuild(ctx, im.SystemContext(), builder.Ref, o.AllowedUIDs, b.logf)
	if err != nil {
		return err
	}
	return assembleuser.Check(o.AllowedUIDs, o.Builder, o.AssembleUser, labels, baseCfg.Config.User, onBuild)
}

// open makes where assemble runs: a container, or this filesystem.
func (b *build) open(context.Context) error {
	if err := b.makeTemp(); err != nil {
		return err
	}
	if b.o.InPlace {
		return b.openInPlace()
	}
	return b.openContainer()
}

// makeTemp makes the build's temp dir, removed by close.
func (b *build) makeTemp() error {
	tmp, err := os.MkdirTemp("", "pys2i-build-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	b.tmp = tmp
	b.onClose(func(err error) error {
		if rerr := os.RemoveAll(tmp); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove temp dir: %w", rerr))
		}
		return err
	})
	return nil
}

// openContainer makes the build container (and the runtime image's), each
// removed by close.
func (b *build) openContainer() error {
	store, err := b.im.Store()
	if err != nil {
		return err
	}
	b.store = store
	sweepStale(store, b.logf)
	if err := b.rt.mount(filepath.Base(b.tmp)); err != nil {
		return err
	}
	ctr, err := container.Create(store, b.builder.Image.ID, filepath.Base(b.tmp)) // "pys2i-build-…", as its temp dir
	if err != nil {
		return err
	}
	b.ctr, b.root = ctr, ctr.Root
	// b.ctr, not ctr: a reused dependency layer replaces the container.
	b.onClose(func(err error) error {
		if rerr := b.ctr.Remove(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return err
	})
	b.logf("pys2i: building with %s (%s) in container %.12s", b.o.Builder, b.baseDigest, ctr.ID)
	return nil
}

// prepareSource resolves the assemble user, copies the source into the
// container, reads the build env, and plans (and lays) a reused
// dependency layer.
func (b *build) prepareSource(ctx context.Context) error {
	o, baseCfg := b.o, b.baseCfg
	user, err := lookupUser(b.root, b.userSpec)
	if err != nil {
		return err
	}
	b.user = user
	b.dest = s2iscripts.Destination(o.Destination, b.labels, baseCfg.Config.Env)
	b.srcIn = path.Join(b.dest, "src")
	srcHost, err := securejoin.SecureJoin(b.root, b.srcIn)
	if err != nil {
		return fmt.Errorf("source destination %s: %w", b.srcIn, err)
	}
	b.srcHost = srcHost
	b.owner = &source.Owner{UID: int(user.UID), GID: int(user.GID)}
	if b.ip != nil {
		b.owner = inPlaceOwner()
	}
	b.srcOpts = source.Options{
		Source: o.Source, Ref: o.Ref, ContextDir: o.ContextDir, Exclude: o.Exclude,
		IgnoreSubmodules: o.IgnoreSubmodules, Owner: b.owner,
	}
	info, err := source.Prepare(ctx, b.srcOpts, srcHost)
	if err != nil {
		return err
	}
	b.info = info
	for _, s := range info.Skipped {
		b.logf("warning: source file %s is a %s: left out of the build (an image layer holds no such files)", s.Path, s.Kind)
	}
	env, warns, err := buildenv.WithSource(srcHost, b.given)
	for _, w := range warns {
		b.logf("warning: %s", w)
	}
	if err != nil {
		return err
	}
	b.env = env
	return b.reuseDeps(ctx)
}

// reuseDeps decides whether a previous image's dependency layer is reused
// and, if so, lays it into the runtime image's container or rebases the
// build container on it.
func (b *build) reuseDeps(ctx context.Context) error {
	o, baseCfg, rt := b.o, b.baseCfg, b.rt
	home := envlist.Get(baseCfg.Config.Env, "HOME")
	if home == "" {
		home = contract.DefaultHome
	}
	b.home = home
	if b.ip != nil {
		return b.reuseInPlace(ctx)
	}
	if err := rt.plan(o, baseCfg.Config.Env); err != nil {
		return err
	}
	b.lin = rt.lineage(baseCfg.RootFS.DiffIDs)
	preEnv := processEnv(baseCfg.Config.Env, b.env.Strings(), b.user.Home)
	prev, reuse, err := planReuse(ctx, b.im, b.store, o, b.lin, rt.topLayer(b.builder.Image.TopLayer), b.srcHost, preEnv, userKey(b.user), b.logf)
	if err != nil {
		return err
	}
	b.prev, b.reuse = prev, reuse
	switch {
	case reuse != nil && rt != nil:
		// The dependency layer is the runtime image's: it is laid back into
		// the builder container.
		if err := rt.restoreDeps(reuse, filepath.Base(b.tmp), b.ctr.Root, home, stateDir(preEnv), *b.owner); err != nil {
			return err
		}
	case reuse != nil:
		c, h, i, err := reuse.rebase(ctx, b.store, b.ctr, filepath.Base(b.tmp), b.srcIn, b.srcOpts)
		if err != nil {
			return err
		}
		b.ctr, b.root, b.srcHost, b.info = c, c.Root, h, i
	}
	return nil
}

// placeScripts locates the S2I scripts and injects the uploaded ones.
func (b *build) placeScripts(context.Context) error {
	o := b.o
	srcScripts, err := s2iscripts.ListSource(b.srcHost)
	if err != nil {
		return err
	}
	scripts, warns, err := s2iscripts.Locate(s2iscripts.Input{
		ScriptsURL: o.ScriptsURL, ImageScriptsURL: o.ImageScriptsURL,
		Labels: b.labels, ImageEnv: b.baseCfg.Config.Env, SourceScripts: srcScripts,
		HostFileExists: func(p string) bool { fi, err := os.Stat(p); return err == nil && fi.Mode().IsRegular() },
	}, scriptNames(o.Incremental), []string{s2iscripts.Assemble, s2iscripts.Run})
	for _, w := range warns {
		b.logf("warning: %s", w)
	}
	if err != nil {
		return err
	}
	b.scripts = scripts
	if b.rt != nil {
		if err := b.rt.scripts(o, b.srcHost, srcScripts); err != nil {
			return err
		}
	}
	for _, s := range scripts {
		if s.External() {
			if err := injectScript(b.root, b.srcHost, b.dest, s, b.owner); err != nil {
				return err
			}
		}
	}
	return nil
}

// assembleEnv prepares what assemble runs with: the flags' extras, the
// epoch, its environment and the pip cache mount (released by close).
func (b *build) assembleEnv() error {
	o, owner := b.o, b.owner
	ex, err := prepareExtras(o, b.root, b.baseCfg.Config.WorkingDir, owner.UID, owner.GID)
	if err != nil {
		return err
	}
	b.ex = ex
	epoch, err := buildEpoch(b.req, b.env.Strings())
	if err != nil {
		return err
	}
	b.epoch = epoch
	procEnv := processEnv(b.baseCfg.Config.Env, b.env.Strings(), b.user.Home)
	procEnv = append(procEnv, epochEnv(procEnv, epoch)...)
	if b.reuse != nil {
		procEnv = append(procEnv, contract.EnvDepsInPlace+"="+contract.On)
	}
	state := stateDir(procEnv)
	b.state = state
	if b.ip != nil {
		b.procEnv = procEnv
		return nil // no store to keep a pip cache in
	}
	cacheMounts, releaseCache, err := pipCacheMount(b.ctr.Root, pipCacheDir(b.store.GraphRoot(), o.Tag), state, procEnv, owner.UID, owner.GID, o.Incremental)
	if err != nil {
		return err
	}
	b.onClose(func(err error) error { releaseCache(); return err })
	if cacheMounts != nil {
		procEnv = append(procEnv, contract.EnvKeepCache+"="+contract.On)
		prunePipCaches(b.store.GraphRoot(), o, time.Now(), b.logf)
	}
	b.procEnv, b.cacheMounts = procEnv, cacheMounts
	return nil
}

// assemble runs save-artifacts (incremental) and assemble, and reads the
// dependency fingerprint assemble recorded.
func (b *build) assemble(ctx context.Context) error {
	if err := b.assembleEnv(); err != nil {
		return err
	}
	o, user, dir := b.o, b.user, b.baseCfg.Config.WorkingDir
	if o.Incremental && b.reuse == nil && b.prev != nil {
		if err := (saveArtifactsRun{store: b.store, prev: *b.prev, script: b.scripts[s2iscripts.SaveArtifacts], dest: b.dest,
			env: b.procEnv, dir: dir, uid: user.UID, gid: user.GID, srcHost: b.srcHost, tmp: b.tmp,
			stderr: b.req.Stderr, logf: b.logf}).run(ctx, b.root); err != nil {
			return err
		}
	}
	stdout := b.req.Stdout
	if o.Quiet {
		stdout = nil
	}
	script := b.scripts[s2iscripts.Assemble].PathIn(b.dest)
	if b.ip != nil {
		b.logf("pys2i: running %s as %d:%d", script, os.Getuid(), os.Getgid())
	} else {
		b.logf("pys2i: running %s as %d:%d", script, user.UID, user.GID)
	}
	aStart := time.Now()
	b.res.Setup = aStart.Sub(b.start)
	err := b.assembleRunner().Run(ctx, assembleSpec{
		Script: script, Env: b.procEnv, Dir: dir, UID: user.UID, GID: user.GID,
		Stdout: stdout, Stderr: b.req.Stderr, Mounts: b.cacheMounts,
	})
	b.res.Assemble = time.Since(aStart)
	b.cStart = time.Now()
	if err != nil {
		return err
	}

	b.debugf("assemble done")
	recorded, err := recordedFingerprint(b.root, b.state)
	if err != nil {
		return err
	}
	b.recorded = recorded
	return nil
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
	out := envlist.Merge(image, build)
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
