// Package container manages a build container in a containers/storage store:
// a read-write layer on top of an image, mounted on the host, whose changes
// can then be read as a tar stream. It runs nothing; package sandbox does.
package container

import (
	"errors"
	"fmt"
	"io"

	"go.podman.io/storage"
	"go.podman.io/storage/pkg/archive"
)

// Container is a mounted container of an image.
type Container struct {
	store   storage.Store
	ID      string
	Root    string // where its root filesystem is mounted on the host
	mounted bool
	// bare: ID is a read-write layer with no container record (OnLayer).
	bare bool
}

// Create creates a container of image (an ID) in store and mounts it. name
// is for people listing the store's containers; it may be empty.
func Create(store storage.Store, imageID, name string) (*Container, error) {
	// The owner is recorded, so that a later build can tell that this
	// container was left by a process that died (FindStale).
	c, err := store.CreateContainer("", nameList(name), imageID, "", ownerMetadata(), nil)
	if err != nil {
		return nil, fmt.Errorf("create container of image %s: %w", imageID, err)
	}
	return mount(&Container{store: store, ID: c.ID})
}

// mount mounts a just-created container or layer, removing it if that fails.
func mount(c *Container) (*Container, error) {
	root, err := c.store.Mount(c.ID, "")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("mount %s: %w", c.ID, err), c.Remove())
	}
	c.Root, c.mounted = root, true
	return c, nil
}

// nameList is the store's names for name: none when it is empty.
func nameList(name string) []string {
	if name == "" {
		return nil
	}
	return []string{name}
}

// Unmount unmounts the root filesystem; the container's layer stays. Calling
// it again is a no-op.
func (c *Container) Unmount() error {
	if !c.mounted {
		return nil
	}
	if _, err := c.store.Unmount(c.ID, true); err != nil {
		return fmt.Errorf("unmount container %s: %w", c.ID, err)
	}
	c.mounted = false
	return nil
}

// Diff returns the container's changes to its image as an uncompressed tar
// stream, with whiteouts for deletions (the OCI layer format).
func (c *Container) Diff() (io.ReadCloser, error) {
	layerID, err := c.layerID()
	if err != nil {
		return nil, err
	}
	none := archive.Uncompressed
	rc, err := c.store.Diff("", layerID, &storage.DiffOptions{Compression: &none})
	if err != nil {
		return nil, fmt.Errorf("read changes of container %s: %w", c.ID, err)
	}
	return rc, nil
}

// Remove unmounts the container and deletes it with its layer. Safe on every
// exit path: it does what is left to do.
func (c *Container) Remove() error {
	err := c.Unmount()
	if c.bare {
		return errors.Join(err, c.deleteLayer())
	}
	if derr := c.store.DeleteContainer(c.ID); derr != nil && !errors.Is(derr, storage.ErrContainerUnknown) && !errors.Is(derr, storage.ErrNotAContainer) {
		err = errors.Join(err, fmt.Errorf("delete container %s: %w", c.ID, derr))
	}
	return err
}
