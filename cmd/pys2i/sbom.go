package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/sbom"
)

// sbomCmd prints the SBOM inside an image pys2i built.
func (a *app) sbomCmd() *cobra.Command {
	var format, authFile string
	var tlsVerify bool
	cmd := &cobra.Command{
		Use:   "sbom IMAGE",
		Short: "Print the SBOM of an image pys2i built (SPDX 2.3 or CycloneDX 1.6 JSON)",
		Long: "Print the SBOM of an image pys2i built, from the file every such image holds under " + sbom.Dir + ".\n" +
			"IMAGE is a name in the local store or any transport (docker://, oci:, docker-archive:, ...).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, ok := sbom.ParseFormat(format)
			if !ok {
				return fmt.Errorf("--format %q: want spdx or cyclonedx", format)
			}
			if a.images == nil {
				return errNoImages
			}
			im := a.images(images.Options{TLSVerify: tlsVerify, Progress: a.stderr, AuthFile: authFile})
			defer im.Close()
			ref, err := im.OutputRef(args[0])
			if err != nil {
				return err
			}
			doc, err := sbom.Read(cmd.Context(), im.SystemContext(), ref, f)
			if errors.Is(err, sbom.ErrNone) {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if err != nil {
				return err
			}
			_, err = a.stdout.Write(doc)
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "spdx", "the document's format: spdx or cyclonedx")
	cmd.Flags().BoolVar(&tlsVerify, "tls-verify", true, "require HTTPS and verify certificates when reading from a registry")
	cmd.Flags().StringVar(&authFile, "authfile", "", "registry credentials file (default: REGISTRY_AUTH_FILE or the usual places)")
	return cmd
}
