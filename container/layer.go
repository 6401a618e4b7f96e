package container

import (
	"errors"
	"fmt"

	"go.podman.io/storage"
)

// OnLayer creates a read-write layer whose parent is the store layer parent
// (any layer of any image, not only an image's top) and mounts it: a build
// container on part of an image, e.g. the builder's layers plus a previous
// build's dependency layer. It has no container record; Remove deletes the
// layer. name is for people listing the store's layers.
func OnLayer(store storage.Store, parent, name string) (*Container, error) {
	l, err := store.CreateLayer("", parent, nameList(name), "", true, nil)
	if err != nil {
		return nil, fmt.Errorf("create a layer on %s: %w", parent, err)
	}
	return mount(&Container{store: store, ID: l.ID, bare: true})
}

func (c *Container) layerID() (string, error) {
	if c.bare {
		return c.ID, nil
	}
	ctr, err := c.store.Container(c.ID)
	if err != nil {
		return "", fmt.Errorf("container %s: %w", c.ID, err)
	}
	return ctr.LayerID, nil
}

func (c *Container) deleteLayer() error {
	if err := c.store.DeleteLayer(c.ID); err != nil && !errors.Is(err, storage.ErrLayerUnknown) && !errors.Is(err, storage.ErrNotALayer) {
		return fmt.Errorf("delete layer %s: %w", c.ID, err)
	}
	return nil
}
