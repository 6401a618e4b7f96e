package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/pys2i/pys2i/imagebuild"
	"github.com/pys2i/pys2i/imagebuild/dockerfile"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/imagebuild/source/s2iscripts"
	"github.com/pys2i/pys2i/internal/redact"
)

// errNoImages is returned by an app built without image access (tests).
var errNoImages = errors.New("no image access: the command was set up without an image store")

func (a *app) buildCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "build SOURCE BUILDER [TAG]",
		Short: "Build an application image from SOURCE with the BUILDER image",
		Long: `Build an application image from SOURCE with the BUILDER image, as "s2i build"
does, without a container daemon.

SOURCE is a local directory, built as it is on disk (uncommitted changes
included), or with --ref a checkout of that git ref; a git URL is cloned.

Every flag can also be set by a PYS2I_* environment variable (--pull-policy:
PYS2I_PULL_POLICY; list values separated by spaces) or a key of the config
file (pull-policy: never). Flags beat variables, which beat the file.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) <= 3 && useConfig(cmd) {
				return nil // .s2ifile may give them
			}
			if len(args) < 2 || len(args) > 3 {
				return fmt.Errorf("%s: want SOURCE BUILDER [TAG], got %d arguments\nRun '%s --help' for usage.",
					cmd.CommandPath(), len(args), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			uc := useConfig(cmd)
			if uc {
				if args, err = restoreConfig(cmd, args, a.warn); err != nil {
					return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
				}
			}
			o, err := gatherOptions(cmd, args)
			if err == nil {
				err = o.Validate()
			}
			if err == nil && uc {
				err = saveConfig(cmd, args, a.warn)
			}
			if err == nil {
				run := a.build
				if run == nil {
					run = a.runBuild
				}
				err = run(cmd.Context(), o)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringP("ref", "r", "", "git ref (branch, tag, SHA) to build instead of the directory as it is on disk")
	f.String("context-dir", "", "subdirectory of the source that is the application root")
	f.String("exclude", source.DefaultExclude, `regular expression of source paths to leave out ("" for none)`)
	f.Bool("ignore-submodules", false, "do not check out git submodules")
	f.StringArrayP("env", "e", nil, "build variable NAME=VALUE (repeatable)")
	f.StringArrayP("environment-file", "E", nil, "file of NAME=VALUE lines (repeatable)")
	f.StringP("scripts-url", "s", "", "where the S2I scripts are: image:///DIR in the builder or file://DIR here")
	f.String("image-scripts-url", s2iscripts.DefaultImageScriptsURL, "where the builder keeps scripts when nothing else says")
	f.StringP("destination", "d", "", "where the source goes in the builder (default: its io.openshift.s2i.destination label, else /tmp)")
	f.String("assemble-user", "", "user that runs assemble (default: the builder's io.openshift.s2i.assemble-user label, else its USER)")
	f.String("assemble-runtime-user", "", "user that runs assemble-runtime in the runtime image")
	f.StringP("allowed-uids", "u", "", "UIDs the assemble user must be in: ranges such as 1-, -100, 100-200, 1000 (exit 15 if not)")
	f.StringP("pull-policy", "p", string(images.PullIfNotPresent), "when to pull the builder: always, never, if-not-present")
	f.String("incremental-pull-policy", string(images.PullIfNotPresent), "when to pull the previous image")
	f.String("runtime-pull-policy", string(images.PullIfNotPresent), "when to pull the runtime image")
	f.Bool("tls-verify", true, "require HTTPS and verify certificates when talking to registries")
	f.Bool("incremental", false, "reuse the artifacts of the previous image (TAG)")
	f.String("incremental-from", "", "image to take the artifacts of an incremental build from (default TAG)")
	f.Bool("rm", false, "remove the previous image after an incremental build")
	f.String("runtime-image", "", "image to copy the runtime artifacts into")
	f.StringArrayP("runtime-artifact", "a", nil, "file or directory copied to the runtime image: SRC[:DST] (repeatable)")
	f.String("as-dockerfile", "", "write a Containerfile and its context to this path instead of building")
	f.String("step", "", "with --in-place: run one step, prepare (reads the registry), assemble (no credentials) or export (writes the image), passing state in --work-dir")
	f.String("work-dir", "", "with --step: the directory the steps share (an emptyDir volume)")
	f.StringArray("result", nil, "write the outcome to a file, KIND=PATH (repeatable): digest, url, size; error-reason, error-message on a failure (Tekton and Shipwright results)")
	f.Bool("in-place", false, "run assemble here, in a container of BUILDER itself (a pod, a CI job), as this user, and write the image to TAG (a registry for a bare name)")
	f.StringP("application-name", "n", "", "io.k8s.display-name of the image (default TAG)")
	f.String("description", "", "io.k8s.description of the image")
	f.BoolP("quiet", "q", false, "do not show the output of assemble (its errors still show)")
	f.BoolP("copy", "c", false, "accepted for s2i compatibility: a local source is always copied as it is on disk")
	f.Bool("keep-symlinks", false, "accepted for s2i compatibility: symlinks are always kept, never followed")
	addSandboxFlags(f)
	addCacheFlags(f)
	f.Bool("use-config", false, "take flags not given and missing arguments from ./.s2ifile, then save this build's there (as s2i; credentials in URLs are not saved)")
	return cmd
}

// gatherOptions gathers the build options from flags, PYS2I_* variables and the
// config file, in that precedence.
func gatherOptions(cmd *cobra.Command, args []string) (options.Options, error) {
	v, err := settings(cmd)
	if err != nil {
		return options.Options{}, err
	}
	return options.FromSettings(args, layered{v, cmd.Flags()})
}

// layered are the settings of a command: viper's layers, with the
// repeatable flags read by list.
type layered struct {
	*viper.Viper
	fs *pflag.FlagSet
}

func (l layered) List(name string) []string { return list(l.fs, l.Viper, name) }

// list reads a repeatable flag: its own values when given (viper would
// split them again), else the variable or config file list.
func list(fs *pflag.FlagSet, v *viper.Viper, name string) []string {
	var vals []string
	if fs.Changed(name) {
		vals, _ = fs.GetStringArray(name)
	} else {
		vals = v.GetStringSlice(name)
	}
	if len(vals) == 0 {
		return nil // one "nothing", whatever the layer
	}
	return vals
}

// runBuild does a validated build.
func (a *app) runBuild(ctx context.Context, o options.Options) error {
	if _, err := source.Check(o.Source); err != nil {
		return err
	}
	if err := checkAuthFile(o); err != nil {
		return err
	}
	if o.AsDockerfile == "" {
		return a.buildImage(ctx, o)
	}
	inspector := a.inspector
	if inspector == nil && a.images != nil {
		im := a.images(imageOptions(o, a.stderr))
		defer im.Close()
		inspector = im
	}
	req, warning := dockerfile.WithBuilderConfig(ctx, dockerfile.RequestFrom(o), inspector)
	if warning != "" {
		a.warn("%s", warning)
	}
	res, err := dockerfile.Generate(ctx, req)
	for _, w := range res.Warnings {
		a.warn("%s", w)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Application dockerfile generated in %s\n", res.Path)
	return nil
}

// buildImage runs the build core and reports how long it took.
func (a *app) buildImage(ctx context.Context, o options.Options) error {
	if a.images == nil {
		return errNoImages
	}
	im := a.images(imageOptions(o, a.stderr))
	// SOURCE_DATE_EPOCH as reproducible-builds tools pass it: in the environment.
	res, err := imagebuild.Run(ctx, imagebuild.Request{Options: o, Images: im, Stdout: a.stdout, Stderr: a.stderr, Log: a.stderr,
		SourceDateEpoch: os.Getenv("SOURCE_DATE_EPOCH"), Tool: "pys2i " + version})
	// The build has removed its container by now: the store can go.
	if cerr := im.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if o.LogLevel >= 1 {
		ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
		what := "built " + redact.URL(res.Tag)
		if res.Tag == "" {
			what = "step " + string(o.InPlaceStep) + " done" // one that writes no image
		}
		fmt.Fprintf(a.stderr, "pys2i: %s: setup %v, assemble %v, commit %v, outside assemble %v\n",
			what, ms(res.Setup), ms(res.Assemble), ms(res.Commit), ms(res.Outside()))
	}
	return nil
}

func imageOptions(o options.Options, progress io.Writer) images.Options {
	return images.Options{TLSVerify: o.TLSVerify, Progress: progress, AuthFile: o.DockerCfgPath}
}

// warn logs a warning; credentials in URLs are masked.
func (a *app) warn(format string, args ...any) {
	fmt.Fprintf(a.stderr, "warning: %s\n", redact.URL(fmt.Sprintf(format, args...)))
}
