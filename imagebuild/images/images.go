// Package images finds, pulls, inspects and writes container images the way
// podman does, with no daemon: references in any containers/image transport,
// the local containers/storage store that podman uses (CONTAINERS_STORAGE_CONF),
// registries.conf (CONTAINERS_REGISTRIES_CONF), policy.json and auth files
// (REGISTRY_AUTH_FILE).
//
// A bare name (no transport) means the local store: for an output image
// that is where it goes; for a builder it is looked up there and, by the
// pull policy, pulled from a registry as podman and buildah do.
package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/pkg/shortnames"
	"go.podman.io/image/v5/signature"
	istorage "go.podman.io/image/v5/storage"

	// The transports a BUILDER or TAG may name; registering them is what
	// importing them does. Not alltransports: docker-daemon, sif and
	// openshift would pull in a daemon client nobody here uses.
	_ "go.podman.io/image/v5/directory"
	_ "go.podman.io/image/v5/docker"
	_ "go.podman.io/image/v5/docker/archive"
	_ "go.podman.io/image/v5/oci/archive"
	_ "go.podman.io/image/v5/oci/layout"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"
	stypes "go.podman.io/storage/types"

	"github.com/pys2i/pys2i/imagebuild/output"
)

// PullPolicy says when an image named without a transport is pulled (the
// --pull-policy flags, options.ParsePullPolicy).
type PullPolicy string

const (
	PullAlways       PullPolicy = "always"
	PullNever        PullPolicy = "never"
	PullIfNotPresent PullPolicy = "if-not-present"
)

// Options configure registry access and reporting.
type Options struct {
	// TLSVerify requires HTTPS and verified certificates; false also allows
	// plain HTTP (--tls-verify=false).
	TLSVerify bool
	// Retries is how many more times a copy that involves a registry is
	// tried after a failure; 0 means the default of 2.
	Retries int
	// Progress receives pull and push progress: bars on a terminal, plain
	// lines otherwise. nil: silent.
	Progress io.Writer
	// AuthFile is the registry auth file (--dockercfg-path: Docker's
	// config.json format); "" means $REGISTRY_AUTH_FILE, else
	// containers/image's defaults (which include ~/.docker/config.json).
	AuthFile string
}

// Images is the access to images of one command run. The store is opened on
// first use (it needs root), so that reading a registry image alone does not.
type Images struct {
	opt   Options
	sys   *types.SystemContext
	store storage.Store
}

// New returns an Images; nothing is opened yet.
func New(opt Options) *Images {
	sys := &types.SystemContext{
		AuthFilePath:                os.Getenv("REGISTRY_AUTH_FILE"), // podman's variable; containers/image does not read it
		DockerInsecureSkipTLSVerify: types.NewOptionalBool(!opt.TLSVerify),
		OCIInsecureSkipTLSVerify:    !opt.TLSVerify,
		// A static pys2i has no persistent blob-info cache (its SQLite
		// needs cgo), so a push learns a compressed layer's digest by
		// compressing it first, then skips the blobs the registry has.
		DockerRegistryPushPrecomputeDigests: true,
	}
	if opt.AuthFile != "" {
		sys.AuthFilePath = opt.AuthFile
	}
	if opt.Retries == 0 {
		opt.Retries = 2
	}
	return &Images{opt: opt, sys: sys}
}

// SystemContext is the containers/image context every access uses.
func (im *Images) SystemContext() *types.SystemContext { return im.sys }

// Store opens the store podman uses, once.
func (im *Images) Store() (storage.Store, error) {
	if im.store != nil {
		return im.store, nil
	}
	opts, err := stypes.DefaultStoreOptions()
	if err != nil {
		return nil, fmt.Errorf("storage configuration: %w", err)
	}
	s, err := storage.GetStore(opts)
	if err != nil {
		return nil, fmt.Errorf("open image store %s: %w", opts.GraphRoot, err)
	}
	im.store = s
	return s, nil
}

// Close releases the store, if it was opened. Unmounting layers mounted by
// this process is the caller's job, before Close.
func (im *Images) Close() error {
	if im.store == nil {
		return nil
	}
	_, err := im.store.Shutdown(false)
	im.store = nil
	// Another process's build (or podman's container) may have a layer
	// mounted: that is theirs, not a failure of this run (podman ignores it too).
	if err != nil && !errors.Is(err, storage.ErrLayerUsedByContainer) {
		return fmt.Errorf("close image store: %w", err)
	}
	return nil
}

// hasTransport reports whether ref names a known transport ("oci:dir").
func hasTransport(ref string) bool {
	t, _, ok := strings.Cut(ref, ":")
	return ok && transports.Get(t) != nil
}

// ParseRef parses "transport:rest", as ParseRef does,
// for the transports this package registers.
func ParseRef(ref string) (types.ImageReference, error) {
	name, rest, ok := strings.Cut(ref, ":")
	if !ok {
		return nil, fmt.Errorf("image reference %q: no transport", ref)
	}
	t := transports.Get(name)
	if t == nil {
		return nil, fmt.Errorf("image reference %q: unknown transport %q", ref, name)
	}
	r, err := t.ParseReference(rest)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", ref, err)
	}
	return r, nil
}

// LocalRef is a reference to name in the local store.
func (im *Images) LocalRef(name string) (types.ImageReference, error) {
	s, err := im.Store()
	if err != nil {
		return nil, err
	}
	ref, err := istorage.Transport.ParseStoreReference(s, name)
	if err != nil {
		return nil, fmt.Errorf("image name %q: %w", name, err)
	}
	return ref, nil
}

// OutputRef parses a TAG: a transport reference, else a name in the local store.
func (im *Images) OutputRef(tag string) (types.ImageReference, error) {
	if rest, ok := strings.CutPrefix(tag, istorage.Transport.Name()+":"); ok {
		return im.LocalRef(rest) // our store handle, not a second one
	}
	if hasTransport(tag) {
		return ParseRef(tag)
	}
	named, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		return nil, fmt.Errorf("image name %q: %w", tag, err)
	}
	return im.LocalRef(reference.TagNameOnly(named).String())
}

// Local is an image in the local store.
type Local struct {
	Ref   types.ImageReference // resolved to the image's ID
	Image *storage.Image
}

// Builder returns the builder image in the local store, bringing it there
// first if needed: a containers-storage: reference is used as it is; any
// other transport is copied in (layers already present are not copied
// again); a bare name is looked up in the store and pulled by policy.
func (im *Images) Builder(ctx context.Context, name string, policy PullPolicy) (Local, error) {
	if t, _, _ := strings.Cut(name, ":"); hasTransport(name) && t != istorage.Transport.Name() {
		src, err := ParseRef(name)
		if err != nil {
			return Local{}, err
		}
		if policy == PullNever && t == "docker" {
			return Local{}, fmt.Errorf("image %s: the pull policy is never, and a docker:// reference is always pulled", name)
		}
		dst, err := im.LocalRef(importName(src))
		if err != nil {
			return Local{}, err
		}
		if _, err := im.Copy(ctx, dst, src, nil); err != nil {
			return Local{}, err
		}
		return im.resolve(dst)
	}
	local := strings.TrimPrefix(name, istorage.Transport.Name()+":")
	ref, err := im.LocalRef(local)
	if err != nil {
		return Local{}, err
	}
	found, err := im.resolve(ref)
	if local != name || (err == nil && policy != PullAlways) {
		return found, err
	}
	if !errors.Is(err, istorage.ErrNoSuchImage) {
		if err != nil {
			return Local{}, err
		}
	} else if policy == PullNever {
		return Local{}, fmt.Errorf("image %s is not in the local store, and the pull policy is never", name)
	}
	return im.pull(ctx, name)
}

// pull pulls a bare name into the store, trying registries.conf's
// candidates for a short name in order, as podman does.
func (im *Images) pull(ctx context.Context, name string) (Local, error) {
	res, err := shortnames.Resolve(im.sys, name)
	if err != nil {
		return Local{}, fmt.Errorf("pull %s: %w", name, err)
	}
	var errs []error
	for _, c := range res.PullCandidates {
		src, err := ParseRef("docker://" + c.Value.String())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		dst, err := im.LocalRef(c.Value.String())
		if err != nil {
			return Local{}, err
		}
		if _, err := im.Copy(ctx, dst, src, nil); err != nil {
			errs = append(errs, err)
			continue
		}
		return im.resolve(dst)
	}
	if len(errs) == 0 {
		return Local{}, fmt.Errorf("pull %s: no registry to pull it from (registries.conf has no unqualified-search-registries)", name)
	}
	return Local{}, res.FormatPullErrors(errs)
}

func (im *Images) resolve(ref types.ImageReference) (Local, error) {
	r, img, err := istorage.ResolveReference(ref)
	if err != nil {
		return Local{}, fmt.Errorf("image %s: %w", ref.StringWithinTransport(), err)
	}
	return Local{Ref: r, Image: img}, nil
}

// importName is the local name an image copied from another transport gets:
// its own name if it has one, else one derived from the reference, so that
// importing the same reference again replaces the same name.
func importName(ref types.ImageReference) string {
	if n := ref.DockerReference(); n != nil {
		return n.String()
	}
	sum := sha256.Sum256([]byte(ref.Transport().Name() + ":" + ref.StringWithinTransport()))
	return "localhost/pys2i-import/" + ref.Transport().Name() + ":" + hex.EncodeToString(sum[:6])
}

// Copy copies src to dst with the system's signature policy, or with policy
// if it is not nil, retrying when a registry is involved. It returns the
// manifest written.
func (im *Images) Copy(ctx context.Context, dst, src types.ImageReference, policy *signature.Policy) (manifest []byte, err error) {
	if policy == nil {
		p, err := signature.DefaultPolicy(im.sys)
		if err != nil {
			return nil, fmt.Errorf("signature policy: %w", err)
		}
		policy = p
	}
	pc, err := signature.NewPolicyContext(policy)
	if err != nil {
		return nil, fmt.Errorf("signature policy: %w", err)
	}
	defer pc.Destroy()
	attempts := 1
	if src.Transport().Name() == "docker" || dst.Transport().Name() == "docker" {
		attempts += im.opt.Retries
	}
	what := fmt.Sprintf("copy %s to %s", refString(src), refString(dst))
	// A file or directory output that a failed copy wrote into (a full
	// disk) is put back as it was.
	if t, ok := output.Of(dst.Transport().Name(), dst.StringWithinTransport()); ok {
		g, gerr := output.Begin(t)
		if gerr != nil {
			return nil, fmt.Errorf("%s: %w", what, gerr)
		}
		defer func() {
			if err != nil {
				err = errors.Join(output.Explain(t, err), g.Rollback())
			}
		}()
	}
	return im.copyRetrying(ctx, pc, dst, src, what, attempts)
}

// copyRetrying is copy.Image, tried up to attempts times.
func (im *Images) copyRetrying(ctx context.Context, pc *signature.PolicyContext, dst, src types.ImageReference, what string, attempts int) (manifest []byte, err error) {
	for i := 1; ; i++ {
		manifest, err = copy.Image(ctx, pc, dst, src, &copy.Options{
			ReportWriter:   im.opt.Progress,
			SourceCtx:      im.sys,
			DestinationCtx: im.sys,
		})
		if err == nil {
			return manifest, nil
		}
		if i >= attempts || ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if im.opt.Progress != nil {
			fmt.Fprintf(im.opt.Progress, "%s failed (attempt %d of %d), retrying: %v\n", what, i, attempts, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(time.Duration(i) * time.Second):
		}
	}
}

func refString(ref types.ImageReference) string {
	return ref.Transport().Name() + ":" + ref.StringWithinTransport()
}

// Config reads an image's OCI config and manifest digest without pulling
// it: a transport reference as it is; a bare name from the local store,
// else from its registry. It implements the CLI's ImageInspector.
func (im *Images) Config(ctx context.Context, name string) (*v1.Image, string, error) {
	var ref types.ImageReference
	var err error
	if hasTransport(name) {
		ref, err = ParseRef(name)
	} else {
		ref, err = im.LocalRef(name)
		if err == nil {
			var l Local
			if l, err = im.resolve(ref); err == nil {
				ref = l.Ref
			} else if errors.Is(err, istorage.ErrNoSuchImage) {
				ref, err = ParseRef("docker://" + name)
			}
		}
	}
	if err != nil {
		return nil, "", fmt.Errorf("inspect %s: %w", name, err)
	}
	return ReadConfig(ctx, im.sys, ref)
}

// ReadConfig returns ref's OCI config and manifest digest.
func ReadConfig(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) (*v1.Image, string, error) {
	img, err := ref.NewImage(ctx, sys)
	if err != nil {
		return nil, "", fmt.Errorf("inspect %s: %w", refString(ref), err)
	}
	defer img.Close()
	cfg, err := img.OCIConfig(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("inspect %s: config: %w", refString(ref), err)
	}
	raw, _, err := img.Manifest(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("inspect %s: manifest: %w", refString(ref), err)
	}
	d, err := manifest.Digest(raw)
	if err != nil {
		return nil, "", fmt.Errorf("inspect %s: manifest: %w", refString(ref), err)
	}
	return cfg, d.String(), nil
}
