package options

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pys2i/pys2i/imagebuild/assembleuser"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/results"
	"github.com/pys2i/pys2i/imagebuild/source"
)

// Settings are the values of "pys2i build"'s flags by flag name, each one
// already layered (flag, then PYS2I_* variable, then config file, then the
// flag's default): the command's to decide.
type Settings interface {
	GetString(name string) string
	GetBool(name string) bool
	GetInt(name string) int
	// List is a repeatable flag's values; nil for none.
	List(name string) []string
}

// FromSettings parses the arguments (SOURCE BUILDER [TAG]) and the
// settings into Options. It checks each value on its own; Validate checks
// them together.
func FromSettings(args []string, s Settings) (Options, error) {
	var o Options
	var err error
	o.Source, o.Builder = args[0], args[1]
	if len(args) == 3 {
		o.Tag = args[2]
	}
	o.Ref = s.GetString("ref")
	if o.Ref == "" && source.Classify(o.Source) == source.Remote {
		// s2i drops a URL's #fragment unless --ref is given; git would choke on it.
		o.Source, _, _ = strings.Cut(o.Source, "#")
	}
	o.ContextDir = s.GetString("context-dir")
	if ex := s.GetString("exclude"); ex != "" {
		if o.Exclude, err = regexp.Compile(ex); err != nil {
			return o, fmt.Errorf("invalid --exclude: %w", err)
		}
	}
	o.IgnoreSubmodules = s.GetBool("ignore-submodules")
	o.Env = s.List("env")
	o.EnvFiles = s.List("environment-file")
	o.ScriptsURL = s.GetString("scripts-url")
	o.ImageScriptsURL = s.GetString("image-scripts-url")
	o.Destination = s.GetString("destination")
	o.AssembleUser = s.GetString("assemble-user")
	o.AssembleRuntimeUser = s.GetString("assemble-runtime-user")
	if o.AllowedUIDs, err = assembleuser.ParseRanges(s.GetString("allowed-uids")); err != nil {
		return o, fmt.Errorf("invalid --allowed-uids: %w", err)
	}
	for _, p := range []struct {
		key string
		dst *images.PullPolicy
	}{{"pull-policy", &o.PullPolicy}, {"incremental-pull-policy", &o.IncrementalPullPolicy}, {"runtime-pull-policy", &o.RuntimePullPolicy}} {
		if *p.dst, err = ParsePullPolicy(s.GetString(p.key)); err != nil {
			return o, fmt.Errorf("--%s: %w", p.key, err)
		}
	}
	o.TLSVerify = s.GetBool("tls-verify")
	o.Incremental = s.GetBool("incremental")
	o.IncrementalFrom = s.GetString("incremental-from")
	o.RemovePrevious = s.GetBool("rm")
	o.RuntimeImage = s.GetString("runtime-image")
	if o.RuntimeArtifacts, err = ParseArtifacts(s.List("runtime-artifact")); err != nil {
		return o, err
	}
	o.AsDockerfile = s.GetString("as-dockerfile")
	o.InPlace = s.GetBool("in-place")
	if o.InPlaceStep, err = ParseInPlaceStep(s.GetString("step")); err != nil {
		return o, err
	}
	o.WorkDir = s.GetString("work-dir")
	if o.Results, err = results.Parse(s.List("result")); err != nil {
		return o, err
	}
	o.AppName = s.GetString("application-name")
	o.Description = s.GetString("description")
	o.Quiet = s.GetBool("quiet")
	o.LogLevel = s.GetInt("loglevel")
	if err := o.sandboxSettings(s); err != nil {
		return o, err
	}
	if err := o.cacheSettings(s); err != nil {
		return o, err
	}
	return o, nil
}

// sandboxSettings reads the sandbox, registry and callback flags.
func (o *Options) sandboxSettings(s Settings) error {
	var err error
	if o.Injections, err = ParseInjections(s.List("inject")); err != nil {
		return err
	}
	if o.Volumes, err = ParseVolumes(s.List("volume")); err != nil {
		return err
	}
	if o.Network, err = ParseNetwork(s.GetString("network")); err != nil {
		return err
	}
	if o.CapDrop, err = ParseCapDrop(s.List("cap-drop")); err != nil {
		return err
	}
	if o.AddHosts, err = ParseAddHosts(s.List("add-host")); err != nil {
		return err
	}
	o.CallbackURL = s.GetString("callback-url")
	o.DockerCfgPath = s.GetString("dockercfg-path")
	return nil
}

// cacheSettings reads the bounds of the pip caches.
func (o *Options) cacheSettings(s Settings) error {
	var err error
	if o.PipCacheMaxAge, err = ParseAge(s.GetString("pip-cache-max-age")); err != nil {
		return fmt.Errorf("--pip-cache-max-age: %w", err)
	}
	if o.PipCacheMaxSize, err = ParseSize(s.GetString("pip-cache-max-size")); err != nil {
		return fmt.Errorf("--pip-cache-max-size: %w", err)
	}
	return nil
}
