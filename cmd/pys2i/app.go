package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/pys2i/pys2i/imagebuild/dockerfile"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/options"
)

// app is one run of the command: its streams and collaborators, no globals.
type app struct {
	stdout, stderr io.Writer
	inspector      dockerfile.Inspector // nil: one from images, if set
	// images gives access to images and the store (images.New); nil means
	// none: builds fail, and --as-dockerfile uses s2i's default labels.
	images func(images.Options) *images.Images
	// build runs a parsed, validated build; nil means a.runBuild. Tests
	// replace it to see the options.
	build func(context.Context, options.Options) error
}

// execute runs the command line args (without the program name).
func (a *app) execute(ctx context.Context, args []string) error {
	root := a.rootCmd()
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "pys2i",
		Short: "Build Python application images from source, s2i-compatible, without a container daemon",
		// Errors are printed once, by main; usage only on request.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w\nRun '%s --help' for usage.", cmd.CommandPath(), err, cmd.CommandPath())
	})
	root.PersistentFlags().String("config", "", "config file (default $XDG_CONFIG_HOME/pys2i/config.yaml, if it exists)")
	root.PersistentFlags().Int("loglevel", 0, "log level, 0 (assemble output and errors) to 5")
	root.AddCommand(a.buildCmd(), a.sbomCmd(), a.versionCmd())
	return root
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.stdout, "pys2i %s\n", version)
			return nil
		},
	}
}
