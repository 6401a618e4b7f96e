// Package options holds the options of "pys2i build" and their checks: the
// argument validation and early exits of s2i build (a bad tag, conflicting
// flags, bad values), as pure functions, so the command only fills Options.
package options

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"go.podman.io/image/v5/docker/reference"

	"github.com/pys2i/pys2i/imagebuild/assembleuser"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/options/buildenv"
	"github.com/pys2i/pys2i/imagebuild/results"
	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/internal/redact"
)

// ParsePullPolicy accepts s2i's three values.
func ParsePullPolicy(s string) (images.PullPolicy, error) {
	switch p := images.PullPolicy(s); p {
	case images.PullAlways, images.PullNever, images.PullIfNotPresent:
		return p, nil
	}
	return "", fmt.Errorf("invalid pull policy %q: want always, never or if-not-present", s)
}

// Artifact is one --runtime-artifact: a path in the builder copied to a
// directory relative to the runtime image's WORKDIR.
type Artifact struct {
	Source, Destination string
}

// ParseArtifacts parses s2i's VolumeList: "src[:dst]" values, each of which
// may hold several separated by ';'. src must be absolute; dst relative,
// not leaving WORKDIR.
func ParseArtifacts(values []string) ([]Artifact, error) {
	var out []Artifact
	for _, item := range splitItems(values) {
		src, dst, _ := strings.Cut(item, ":")
		if !path.IsAbs(src) {
			return nil, fmt.Errorf("invalid --runtime-artifact %q: the source must be an absolute path", item)
		}
		if path.IsAbs(dst) {
			return nil, fmt.Errorf("invalid --runtime-artifact %q: the destination must be a relative path", item)
		}
		if c := path.Clean(dst); dst != "" && (c == ".." || strings.HasPrefix(c, "../")) {
			return nil, fmt.Errorf("invalid --runtime-artifact %q: the destination must not start with ..", item)
		}
		out = append(out, Artifact{Source: src, Destination: dst})
	}
	return out, nil
}

// splitItems is the items of repeated flag values that may each hold
// several separated by ';', trimmed, empty ones dropped.
func splitItems(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ";") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// Options are everything "pys2i build" was asked to do.
type Options struct {
	Source, Builder, Tag string

	Ref, ContextDir  string
	Exclude          *regexp.Regexp // nil: exclude nothing
	IgnoreSubmodules bool

	Env      []string // -e NAME=VALUE
	EnvFiles []string // -E

	ScriptsURL, ImageScriptsURL, Destination string
	AssembleUser, AssembleRuntimeUser        string
	AllowedUIDs                              assembleuser.Ranges

	PullPolicy, IncrementalPullPolicy, RuntimePullPolicy images.PullPolicy
	TLSVerify                                            bool

	Incremental     bool
	IncrementalFrom string
	RemovePrevious  bool // --rm

	RuntimeImage     string
	RuntimeArtifacts []Artifact

	AsDockerfile string

	// InPlace runs assemble here, in a container of the builder image
	// itself (a Kubernetes pod, a CI job), as this process's user: no
	// store, no sandbox, no mounts; the image is written to TAG's
	// transport, a registry for a bare name (inplace.go in imagebuild).
	InPlace bool
	// InPlaceStep runs one step of an --in-place build, so that registry
	// credentials never reach assemble: "prepare" and "export" read and
	// write the registry, "assemble" runs assemble with neither; they pass
	// what they learned in WorkDir. "" runs all three in one.
	InPlaceStep InPlaceStep
	WorkDir     string

	// Results are the files the outcome is written to (--result).
	Results []results.File

	AppName, Description string
	Quiet                bool
	LogLevel             int

	// Sandbox and integration flags (flags.go).
	Injections    []Injection         // --inject
	Volumes       []sandbox.Mount     // --volume
	Network       Network             // --network; "" is host
	CapDrop       []string            // --cap-drop, canonical names or ALL
	AddHosts      []sandbox.HostEntry // --add-host
	CallbackURL   string              // --callback-url
	DockerCfgPath string              // --dockercfg-path: the registry auth file

	// Bounds of the per-TAG pip caches, 0 for none: caches unused for
	// longer are removed, then the oldest while the total is larger.
	PipCacheMaxAge  time.Duration // --pip-cache-max-age
	PipCacheMaxSize int64         // --pip-cache-max-size, bytes
}

// knownTransports are containers/image transport names: "NAME:rest" is a
// reference in that transport, anything else a registry name.
var knownTransports = map[string]bool{
	"docker": true, "oci": true, "oci-archive": true, "docker-archive": true,
	"containers-storage": true, "dir": true, "docker-daemon": true, "sif": true, "tarball": true,
}

// CheckImageRef checks an image reference: "transport:rest" for a known
// transport (docker://NAME is checked as a registry name), else a registry
// name as podman takes it (localhost/app:1, quay.io/x/y@sha256:...).
func CheckImageRef(ref string) error {
	if t, rest, ok := strings.Cut(ref, ":"); ok && knownTransports[t] {
		if t != "docker" {
			if rest == "" {
				return fmt.Errorf("invalid reference %q: nothing after %s:", ref, t)
			}
			return nil // the transport parses it when used
		}
		ref = strings.TrimPrefix(rest, "//")
	}
	if _, err := reference.ParseNormalizedNamed(ref); err != nil {
		return fmt.Errorf("invalid reference %q: %w", ref, err)
	}
	return nil
}

// Validate makes s2i's early checks; every failure is a clear error (s2i
// printed most of them and exited 0; pys2i exits non-zero).
func (o Options) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.Source == "" {
		add("the SOURCE argument is empty")
	}
	if o.Builder == "" {
		add("the BUILDER argument is empty")
	} else if err := CheckImageRef(o.Builder); err != nil {
		add("invalid BUILDER: %v", err)
	}
	if o.Tag != "" {
		if err := CheckImageRef(o.Tag); err != nil {
			add("invalid TAG: %v", err)
		}
	}
	if o.AsDockerfile != "" && o.RuntimeImage != "" {
		add("--runtime-image cannot be used with --as-dockerfile")
	}
	if o.IncrementalFrom != "" && !o.Incremental {
		add("--incremental-from needs --incremental")
	}
	if o.Incremental && o.Tag == "" && o.IncrementalFrom == "" {
		add("an incremental build needs a TAG or --incremental-from: the image to take artifacts from")
	}
	for _, ref := range []struct{ flag, v string }{{"--runtime-image", o.RuntimeImage}, {"--incremental-from", o.IncrementalFrom}} {
		if ref.v != "" {
			if err := CheckImageRef(ref.v); err != nil {
				add("invalid %s: %v", ref.flag, err)
			}
		}
	}
	if _, err := source.CleanContextDir(o.ContextDir); err != nil {
		errs = append(errs, err)
	}
	if o.Ref != "" && strings.HasPrefix(o.Ref, "-") {
		add("invalid --ref %q: a ref cannot start with '-'", o.Ref)
	}
	if _, _, err := buildenv.ParseFlags(o.Env); err != nil {
		errs = append(errs, err)
	}
	for _, u := range []struct{ flag, v string }{{"--scripts-url", o.ScriptsURL}, {"--image-scripts-url", o.ImageScriptsURL}} {
		if err := checkScriptsURL(u.v); err != nil {
			add("invalid %s: %v", u.flag, err)
		}
	}
	if o.Destination != "" && !path.IsAbs(o.Destination) {
		add("invalid --destination %q: it must be an absolute path", o.Destination)
	}
	if err := CheckCallbackURL(o.CallbackURL); err != nil {
		errs = append(errs, err)
	}
	if o.AsDockerfile != "" && (len(o.Volumes) > 0 || o.Network == NetworkNone || len(o.CapDrop) > 0 || len(o.AddHosts) > 0) {
		add("--volume, --network, --cap-drop and --add-host cannot be used with --as-dockerfile: they apply to pys2i's own sandbox")
	}
	if o.AsDockerfile != "" && len(o.Injections) > 0 {
		add("--inject with --as-dockerfile is not supported")
	}
	errs = append(errs, o.checkInPlace()...)
	if o.LogLevel < 0 || o.LogLevel > 5 {
		add("invalid --loglevel %d: want 0 to 5", o.LogLevel)
	}
	return errors.Join(errs...)
}

// InPlaceStep is one step of an --in-place build (--step).
type InPlaceStep string

// The steps, in order.
const (
	StepPrepare  InPlaceStep = "prepare"
	StepAssemble InPlaceStep = "assemble"
	StepExport   InPlaceStep = "export"
)

// ParseInPlaceStep accepts "" (every step) and the step names.
func ParseInPlaceStep(s string) (InPlaceStep, error) {
	switch st := InPlaceStep(s); st {
	case "", StepPrepare, StepAssemble, StepExport:
		return st, nil
	}
	return "", fmt.Errorf("invalid --step %q: want prepare, assemble or export", s)
}

// checkInPlace refuses what --in-place cannot do: whatever needs the local
// store, the sandbox or a second image.
func (o Options) checkInPlace() []error {
	var errs []error
	if !o.InPlace {
		if o.InPlaceStep != "" || o.WorkDir != "" {
			errs = append(errs, errors.New("--step and --work-dir are for --in-place builds"))
		}
		return errs
	}
	if (o.InPlaceStep == "") != (o.WorkDir == "") {
		errs = append(errs, errors.New("--step and --work-dir go together: each step of an --in-place build passes what it learned to the next in the work dir"))
	}
	for _, c := range []struct {
		flag string
		set  bool
	}{
		{"--as-dockerfile", o.AsDockerfile != ""},
		{"--runtime-image", o.RuntimeImage != ""},
		{"--incremental", o.Incremental || o.IncrementalFrom != ""},
		{"--rm", o.RemovePrevious},
		{"--volume", len(o.Volumes) > 0},
		{"--inject", len(o.Injections) > 0},
		{"--network none", o.Network == NetworkNone},
		{"--cap-drop", len(o.CapDrop) > 0},
		{"--add-host", len(o.AddHosts) > 0},
		{"--assemble-user", o.AssembleUser != ""},
	} {
		if c.set {
			errs = append(errs, fmt.Errorf("%s cannot be used with --in-place: assemble runs as this process, in this container", c.flag))
		}
	}
	if strings.HasPrefix(o.Tag, "containers-storage:") {
		errs = append(errs, fmt.Errorf("invalid TAG %q with --in-place: there is no local store in this mode; write to a registry (a name, docker://NAME) or oci:DIR", o.Tag))
	}
	return errs
}

// checkScriptsURL accepts the schemes pys2i can use: image:// and file://.
func checkScriptsURL(u string) error {
	if u == "" {
		return nil
	}
	scheme, _, ok := strings.Cut(u, "://")
	switch {
	case !ok:
		return fmt.Errorf("%q has no scheme: use image:///DIR (in the builder) or file://DIR (on this machine)", redact.URL(u))
	case scheme == "image" || scheme == "file":
		return nil
	case scheme == "http" || scheme == "https":
		return fmt.Errorf("%s: downloading scripts over %s is not supported; download them and use file://DIR", redact.URL(u), scheme)
	default:
		return fmt.Errorf("%s: unsupported scheme %q: use image:// or file://", redact.URL(u), scheme)
	}
}
