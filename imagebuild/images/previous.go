package images

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.podman.io/image/v5/pkg/shortnames"
	istorage "go.podman.io/image/v5/storage"
)

// NoImageError says that an image is nowhere it was looked for; Where says
// where it was looked for when that was more than the local store (a
// registry's answer, which may be that it is down).
type NoImageError struct {
	Name  string
	Where []string
}

func (e *NoImageError) Error() string {
	if len(e.Where) == 0 {
		return fmt.Sprintf("no image %s in the local store", e.Name)
	}
	return fmt.Sprintf("no image %s: %s", e.Name, strings.Join(e.Where, "; "))
}

// Previous is Builder for an image that may well not exist yet (the
// previous image of an incremental build): it looks before it pulls, once
// and with no retries, and an image found nowhere is a *NoImageError.
func (im *Images) Previous(ctx context.Context, name string, policy PullPolicy) (Local, error) {
	t, _, _ := strings.Cut(name, ":")
	if hasTransport(name) && t != istorage.Transport.Name() {
		src, err := ParseRef(name)
		if err != nil {
			return Local{}, err
		}
		if t == "docker" && policy == PullNever {
			return im.Builder(ctx, name, policy) // its error, with no look at the registry
		}
		if _, _, err := ReadConfig(ctx, im.sys, src); err != nil {
			return Local{}, &NoImageError{Name: name, Where: []string{err.Error()}}
		}
		return im.Builder(ctx, name, policy)
	}
	local := strings.TrimPrefix(name, istorage.Transport.Name()+":")
	ref, err := im.LocalRef(local)
	if err != nil {
		return Local{}, err
	}
	found, err := im.resolve(ref)
	missing := errors.Is(err, istorage.ErrNoSuchImage)
	switch {
	case err != nil && !missing:
		return Local{}, err
	case !missing && (policy != PullAlways || local != name):
		return found, nil
	case missing && (policy == PullNever || local != name):
		return Local{}, &NoImageError{Name: name}
	}
	where, ok := im.remoteExists(ctx, name)
	switch {
	case ok:
		return im.pull(ctx, name)
	case !missing:
		return found, nil // pull always, but nothing newer to pull
	}
	return Local{}, &NoImageError{Name: name, Where: where}
}

// remoteExists reports whether a registry that registries.conf gives for
// name has it, and else what each said.
func (im *Images) remoteExists(ctx context.Context, name string) ([]string, bool) {
	res, err := shortnames.Resolve(im.sys, name)
	if err != nil {
		return nil, false // a short name with no registry to look in
	}
	var where []string
	for _, c := range res.PullCandidates {
		src, err := ParseRef("docker://" + c.Value.String())
		if err == nil {
			if _, _, err = ReadConfig(ctx, im.sys, src); err == nil {
				return nil, true
			}
		}
		where = append(where, err.Error())
	}
	return where, false
}
