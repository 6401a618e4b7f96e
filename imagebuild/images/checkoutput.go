package images

import (
	"context"
	"errors"
	"fmt"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"

	"github.com/pys2i/pys2i/imagebuild/output"
)

// CheckOutput checks, before a build does any work, what can be known about
// writing to ref: a file or directory output's directory can be written
// in; a registry answers at /v2/ (with the credentials and TLS settings the
// push will use, sent to that registry only). The local store needs no check.
func (im *Images) CheckOutput(ctx context.Context, ref types.ImageReference) error {
	name := ref.Transport().Name()
	if t, ok := output.Of(name, ref.StringWithinTransport()); ok {
		return t.Check()
	}
	if name != "docker" || ref.DockerReference() == nil {
		return nil
	}
	registry := reference.Domain(ref.DockerReference())
	auth, err := config.GetCredentials(im.sys, registry)
	if err != nil {
		return fmt.Errorf("output %s: credentials for %s: %w", refString(ref), registry, err)
	}
	err = docker.CheckAuth(ctx, im.sys, auth.Username, auth.Password, registry)
	var unauthorized docker.ErrUnauthorizedForCredentials
	switch {
	case err == nil:
		return nil
	case errors.As(err, &unauthorized) && auth.Username == "":
		// It answered. Without a password (none, or an identity token
		// that only the push uses) a 401 is the registry asking for one.
		return nil
	case errors.As(err, &unauthorized):
		return fmt.Errorf("output %s: the registry %s refused the credentials: %w", refString(ref), registry, err)
	}
	return fmt.Errorf("output %s: the registry %s does not answer: %w", refString(ref), registry, err)
}
