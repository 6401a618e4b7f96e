package imagebuild

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/pkg/blobinfocache/none"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/types"
	"golang.org/x/sys/unix"

	"github.com/pys2i/pys2i/assemble/artifacts"
	"github.com/pys2i/pys2i/imagebuild/assembleuser"
	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/layer"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/imagebuild/source/s2iscripts"
	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
)

// --in-place: the build runs inside a container of the builder image
// itself (a Kubernetes pod, a CI job), as whatever uid it was given, with
// no privileges: no store, no container to create, no sandbox. The source
// goes to the builder's destination in this very filesystem, assemble runs
// as a child, and the layers are what it changed under $APP_ROOT, found by
// a snapshot taken before. The builder is read from its registry, pinned by
// digest, and the image is its layers plus the new ones, written to TAG.

// inPlace is what an --in-place build keeps between its phases.
type inPlace struct {
	builder *images.Remote // nil in the assemble step, which reads no registry
	prev    *images.Remote // TAG's image as it is now, nil for none
	// work holds what crosses steps: the reused layer, the new layers,
	// the state files (--work-dir, else the temp dir).
	work           string
	plannedBuilder string // the pinned builder of prepare's plan
	run            string // the plan's run
	appRoot        string // $APP_ROOT, absolute
	// captured are the trees whose changes make the layers, rel to "/":
	// $APP_ROOT, and assemble's state dir (its dependency fingerprint),
	// which a store build's dependency layer holds too.
	captured []string
	before   *layer.Snapshot // the captured trees before assemble (and the source)
	outside  *layer.Snapshot // the rest of the filesystem assemble may write to
}

// resolveInPlace is resolve for --in-place: the output and the builder are
// references in a registry (or a layout), never in a store. The assemble
// step reads neither: it takes the builder's config from prepare's plan.
func (b *build) resolveInPlace(ctx context.Context) error {
	o, im := b.o, b.im
	outRef, err := images.RemoteRef(o.Tag)
	if err != nil {
		return fmt.Errorf("invalid TAG: %w", err)
	}
	b.outRef = outRef
	b.ip = &inPlace{work: o.WorkDir}
	// assemble runs as this uid: not dumpable, this process's environment
	// and memory (where registry credentials may be) are not readable
	// through /proc by it.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("--in-place: %w", err)
	}
	switch o.InPlaceStep {
	case options.StepAssemble:
		return b.loadPlan()
	case options.StepExport:
		if err := im.CheckOutput(ctx, outRef); err != nil {
			return err
		}
		if err := b.loadPlan(); err != nil {
			return err
		}
		return b.openPlannedBuilder(ctx)
	}
	if err := im.CheckOutput(ctx, outRef); err != nil {
		return err
	}
	builder, err := im.OpenRemote(ctx, o.Builder)
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	b.onClose(func(err error) error { return errors.Join(err, builder.Close()) })
	b.ip.builder = builder
	b.useBuilder(builder.Config, builder.Digest)
	b.baseSrc = builder.Source
	onBuild, err := builderOnBuild(ctx, im.SystemContext(), builder.Ref, o.AllowedUIDs, b.logf)
	if err != nil {
		return err
	}
	if err := assembleuser.Check(o.AllowedUIDs, o.Builder, "", b.labels, builder.Config.Config.User, onBuild); err != nil {
		return err
	}
	b.ip.prev = b.openPrevious(ctx)
	if b.ip.prev != nil {
		b.onClose(func(err error) error { return errors.Join(err, b.ip.prev.Close()) })
	}
	return nil
}

// useBuilder takes what the build needs of the builder's config.
func (b *build) useBuilder(cfg *v1.Image, digest string) {
	b.baseCfg, b.baseDigest = cfg, digest
	b.labels = cfg.Config.Labels
	b.userSpec = assembleuser.Resolve("", b.labels, cfg.Config.User)
	appRoot := envlist.Get(cfg.Config.Env, "APP_ROOT")
	if appRoot == "" {
		appRoot = contract.DefaultAppRoot
	}
	b.ip.appRoot = path.Clean(appRoot)
	b.lin = lineage{base: cfg.RootFS.DiffIDs}
}

// openPrevious opens TAG's image as it is now, whose dependency layer the
// build may reuse; nil when there is none (or it cannot be read: then the
// build installs everything, as a first one does).
func (b *build) openPrevious(ctx context.Context) *images.Remote {
	prev, err := b.im.OpenRemote(ctx, b.o.Tag)
	if err != nil {
		b.debugf("no previous image %s: %v", b.o.Tag, err)
		return nil
	}
	return prev
}

// reuseInPlace decides, as a store build does, whether the previous image's
// dependency layer is reused, and downloads it (prepare); lays it back
// under $APP_ROOT, where assemble finds the dependencies installed, and
// records $APP_ROOT: what assemble changes from there is the new layers
// (assemble). One step does both.
func (b *build) reuseInPlace(ctx context.Context) error {
	b.ip.capture(stateDir(processEnv(b.baseCfg.Config.Env, b.env.Strings(), b.user.Home)))
	step := b.o.InPlaceStep
	if step != options.StepAssemble {
		if err := b.planDeps(ctx); err != nil {
			return err
		}
	}
	if step == options.StepPrepare {
		return nil
	}
	if r := b.reuse; r != nil {
		if err := b.layDeps(r.layer.Path, r.layer.DiffID); err != nil {
			return fmt.Errorf("reuse the dependencies of %s: %w", b.o.Tag, err)
		}
	}
	var err error
	if b.ip.before, err = layer.Record("/", layer.Options{Exclude: b.ip.capturedOnly}); err != nil {
		return fmt.Errorf("--in-place: %w", err)
	}
	return nil
}

// capture sets the captured trees, once the state dir is known.
func (ip *inPlace) capture(stateDir string) {
	ip.captured = []string{strings.TrimPrefix(ip.appRoot, "/"), strings.TrimPrefix(path.Clean(stateDir), "/")}
}

// capturedOnly is the Exclude of a walk of "/" that sees the captured
// trees only: what is in one, or above one, is walked.
func (ip *inPlace) capturedOnly(rel string, isDir bool) bool {
	return !ip.inCaptured(rel) && !(isDir && ip.aboveCaptured(rel))
}

func (ip *inPlace) inCaptured(rel string) bool {
	for _, c := range ip.captured {
		if rel == c || strings.HasPrefix(rel, c+"/") {
			return true
		}
	}
	return false
}

func (ip *inPlace) aboveCaptured(rel string) bool {
	for _, c := range ip.captured {
		if strings.HasPrefix(c, rel+"/") {
			return true
		}
	}
	return false
}

// planDeps decides whether the previous image's dependency layer is
// reused and, if so, downloads it to the work dir.
func (b *build) planDeps(ctx context.Context) error {
	prev := b.ip.prev
	if prev == nil {
		return nil
	}
	preEnv := processEnv(b.baseCfg.Config.Env, b.env.Strings(), b.user.Home)
	current, err := artifacts.Compute(b.srcHost, preEnv, "")
	if err != nil {
		current = nil
	}
	d := decideReuse(b.lin, prev.Config, current, userKey(b.user))
	if !d.Reuse {
		b.logf("pys2i: not reusing the dependencies of %s: %s", b.o.Tag, d.Reason)
		return nil
	}
	blobs, err := commit.BaseLayers(ctx, prev.Source)
	if err != nil || len(blobs) != len(prev.Config.RootFS.DiffIDs) {
		b.logf("pys2i: not reusing the dependencies of %s: its layers cannot be listed: %v", b.o.Tag, err)
		return nil
	}
	blob := blobs[len(b.lin.base)]
	file := filepath.Join(b.ip.work, depsBlobFile)
	if err := downloadBlob(ctx, prev, blob, file); err != nil {
		return fmt.Errorf("reuse the dependencies of %s: %w", b.o.Tag, err)
	}
	b.logf("pys2i: reusing the dependency layer %.19s of %s: %s", d.Layer, b.o.Tag, d.Reason)
	b.reuse = &depsReuse{
		layer: commit.Layer{DiffID: d.Layer, Size: blob.Size, Path: file,
			Stored: &v1.Descriptor{MediaType: blob.MediaType, Digest: blob.Digest, Size: blob.Size}},
		fingerprint: prev.Config.Config.Labels[contract.LabelDepsFingerprint],
	}
	return nil
}

// downloadBlob writes blob of src to file, checked against its digest.
func downloadBlob(ctx context.Context, src *images.Remote, blob types.BlobInfo, file string) error {
	rc, _, err := src.Source.GetBlob(ctx, blob, none.NoCache)
	if err != nil {
		return fmt.Errorf("download %s: %w", blob.Digest, err)
	}
	defer rc.Close()
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	v := blob.Digest.Verifier()
	_, err = io.Copy(io.MultiWriter(f, v), rc)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", blob.Digest, err)
	}
	if !v.Verified() {
		return fmt.Errorf("download %s: the content does not match its digest", blob.Digest)
	}
	return nil
}

// layDeps extracts the (compressed) layer file under $APP_ROOT as this
// user, checking that it is the layer diffID names.
func (b *build) layDeps(file string, diffID digest.Digest) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	r, _, err := compression.AutoDecompress(f)
	if err != nil {
		return fmt.Errorf("decompress %s: %w", diffID, err)
	}
	defer r.Close()
	root, err := os.OpenRoot("/")
	if err != nil {
		return err
	}
	defer root.Close()
	v := diffID.Verifier()
	tee := io.TeeReader(r, v)
	if _, err := layer.ExtractOnto(tee, root, func(name string) (string, bool) {
		return name, b.ip.inCaptured(name) && !b.ip.aboveCaptured(name)
	}); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil { // the tar's end, for the digest
		return err
	}
	if !v.Verified() {
		return fmt.Errorf("the layer is not %s", diffID)
	}
	return nil
}

// openInPlace records the filesystem as it is (but in the steps that run
// no assemble), so
// that what assemble changes can be told afterwards.
func (b *build) openInPlace() error {
	b.root = "/"
	if b.ip.work == "" {
		b.ip.work = b.tmp
	}
	if st := b.o.InPlaceStep; st == options.StepPrepare || st == options.StepAssemble {
		if err := clearState(b.ip.work, st); err != nil {
			return err
		}
	}
	if b.o.InPlaceStep == options.StepExport {
		return nil // nothing runs here: the image is written from the work dir
	}
	if fi, err := os.Stat(b.ip.appRoot); err != nil || !fi.IsDir() {
		return fmt.Errorf("--in-place: APP_ROOT %s is not a directory here: is this a container of %s?", b.ip.appRoot, b.o.Builder)
	}
	if b.o.InPlaceStep == options.StepPrepare {
		return nil // assemble does not run in this step
	}
	if err := b.checkHomeCredentials(); err != nil {
		return err
	}
	skip, err := outsideSkips(b.ip.appRoot)
	if err != nil {
		return err
	}
	if b.ip.outside, err = layer.Record("/", layer.Options{Exclude: skip}); err != nil {
		return fmt.Errorf("--in-place: %w", err)
	}
	b.logf("pys2i: building in place on %s (%s) as uid %d", b.o.Builder, b.baseDigest, os.Getuid())
	return nil
}

// homeCredentials are files that hold credentials where tools look for
// them in $HOME. Tekton copies a ServiceAccount's secrets into $HOME of
// every step (Shipwright's push secret too): in place, assemble could read
// them, and fix-permissions's touch would put them in the image.
var homeCredentials = []string{
	".docker/config.json", ".dockercfg", ".config/containers/auth.json",
	".git-credentials", ".netrc", ".pypirc", ".ssh",
}

// checkHomeCredentials refuses a build whose $HOME already holds any.
func (b *build) checkHomeCredentials() error {
	home := envlist.Get(b.baseCfg.Config.Env, "HOME")
	if home == "" {
		home = contract.DefaultHome
	}
	var found []string
	for _, c := range homeCredentials {
		if _, err := os.Lstat(filepath.Join(home, c)); err == nil {
			found = append(found, c)
		}
	}
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("--in-place: $HOME (%s) holds %s before the build: credentials there would reach assemble and the image "+
		"(Tekton copies a ServiceAccount's secrets into $HOME); give this step another HOME (e.g. HOME=/tmp/pys2i-home) or remove them",
		home, strings.Join(found, ", "))
}

// outsideSkips leaves out of the watch of the rest of the filesystem what
// is not the image's: $APP_ROOT (read on its own), /tmp (the build's own
// scratch space, as in a normal build), the kernel's trees and whatever is
// mounted (the pod's volumes, /etc/hosts and the like).
func outsideSkips(appRoot string) (func(string, bool) bool, error) {
	skip := map[string]bool{strings.TrimPrefix(appRoot, "/"): true, "tmp": true, "proc": true, "sys": true, "dev": true}
	mounts, err := mountPoints()
	if err != nil {
		return nil, err
	}
	for _, m := range mounts {
		if m != "/" {
			skip[strings.TrimPrefix(m, "/")] = true
		}
	}
	return func(rel string, _ bool) bool { return skip[rel] }, nil
}

// mountPoints lists this process's mount points (/proc/self/mountinfo).
func mountPoints() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("mount table: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 {
			out = append(out, unescapeMount(fields[4]))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mount table: %w", err)
	}
	return out, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// directAssemble runs assemble as a child of this process, as its user.
type directAssemble struct{}

func (directAssemble) Run(ctx context.Context, a assembleSpec) error {
	cmd := exec.CommandContext(ctx, a.Script)
	cmd.Env, cmd.Dir = a.Env, a.Dir
	cmd.Stdout, cmd.Stderr = orDiscard(a.Stdout), orDiscard(a.Stderr)
	// Its own process group, so that a signal to the build ends all of it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		code := ee.ExitCode()
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			code = 128 + int(st.Signal())
		}
		return &AssembleError{Code: code}
	}
	if err != nil {
		return fmt.Errorf("assemble: %w", err)
	}
	return nil
}

// inPlaceChanges are an --in-place build's layers: what changed under
// $APP_ROOT since the snapshot, split as a plain build's, owned by the
// image's user whatever uid the build ran as. Changes elsewhere are
// reported and left out.
type inPlaceChanges struct{ b *build }

func (c inPlaceChanges) collect(ctx context.Context) (collected, error) {
	b := c.b
	me, myGroup := os.Getuid(), os.Getgid()
	opt := layer.Options{
		Owner: func(uid, gid int) (int, int) {
			if uid == me {
				uid = int(b.user.UID)
			}
			if gid == myGroup {
				gid = int(b.user.GID)
			}
			return uid, gid
		},
	}
	layers := filepath.Join(b.ip.work, "layers")
	if err := os.Mkdir(layers, 0o700); err != nil {
		return collected{}, fmt.Errorf("--in-place: %w", err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(layer.WriteChanges(pw, b.ip.before, opt)) }()
	outside, homeLayer, _, err := commit.Split(pr, layers, commit.SplitOptions{
		Home: b.home, Clamp: b.epoch, SkipDirs: skipDirs(b.reuse, b.home, b.srcIn, b.state),
	})
	pr.CloseWithError(errors.New("split ended"))
	if err != nil {
		return collected{}, err
	}
	if err := b.warnOutside(); err != nil {
		return collected{}, err
	}
	meta, err := readMetadata(b.root)
	if err != nil {
		return collected{}, err
	}
	b.debugf("changes split: %d + %d bytes", outside.Size, homeLayer.Size)
	return collected{
		layers: commit.Input{Base: b.baseSrc, Outside: outside, Home: homeLayer, HomeDir: b.home,
			Deps: b.reuse.reused()},
		baseCfg: b.baseCfg, runScript: b.scripts[s2iscripts.Run].PathIn(b.dest), meta: meta, deps: b.reuse,
	}, nil
}

// maxOutsideShown bounds the changes outside $APP_ROOT a warning names.
const maxOutsideShown = 20

// warnOutside reports what assemble changed outside $APP_ROOT and /tmp:
// an in-place build cannot tell it from the pod's own changes reliably
// enough to ship it, and never drops it silently either.
func (b *build) warnOutside() error {
	changed, err := layer.Changes(b.ip.outside, layer.Options{Exclude: func(rel string, _ bool) bool {
		return rel == strings.TrimPrefix(b.tmp, "/") || rel == strings.TrimPrefix(b.ip.work, "/") || b.ip.inCaptured(rel)
	}})
	if err != nil {
		return fmt.Errorf("--in-place: %w", err)
	}
	changed = leaves(changed)
	if len(changed) == 0 {
		return nil
	}
	shown := changed
	if len(shown) > maxOutsideShown {
		shown = shown[:maxOutsideShown]
	}
	for i, c := range shown {
		shown[i] = "/" + deletedName(c)
	}
	more := ""
	if n := len(changed) - len(shown); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	b.logf("warning: --in-place: assemble changed %d paths outside %s and /tmp, left out of the image: %s%s",
		len(changed), b.ip.appRoot, strings.Join(shown, ", "), more)
	return nil
}

// leaves drops from sorted layer names the directories listed only because
// something in them changed (their mtime moved with it).
func leaves(names []string) []string {
	var out []string
	for i, n := range names {
		if i+1 < len(names) && strings.HasPrefix(names[i+1], n+"/") {
			continue
		}
		out = append(out, n)
	}
	return out
}

// deletedName turns a whiteout's name back into "x (deleted)".
func deletedName(name string) string {
	dir, base := path.Split(name)
	if rest, ok := strings.CutPrefix(base, layer.WhiteoutPrefix); ok {
		return dir + rest + " (deleted)"
	}
	return name
}

// mountBuilderBlobs has the output's registry mount the builder's layers
// from the builder's repository, before the write: they are not sent again.
func (b *build) mountBuilderBlobs(ctx context.Context) error {
	infos, err := commit.BaseLayers(ctx, b.ip.builder.Source)
	if err != nil {
		return err
	}
	n, err := b.im.MountBlobs(ctx, b.outRef, b.ip.builder, infos)
	if err != nil {
		return err
	}
	b.debugf("%d of the builder's %d layers are in the output's repository", n, len(infos))
	return nil
}

// inPlaceOwner is the owner of what the build copies in: this process's
// user, which is the only one it can give files to.
func inPlaceOwner() *source.Owner {
	return &source.Owner{UID: os.Getuid(), GID: os.Getgid()}
}
