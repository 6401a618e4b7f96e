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
// layer. name is for people listing the store's layers, and for FindStale.
func OnLayer(store storage.Store, parent, name string) (*Container, error) {
	l, err := store.CreateLayer("", parent, nameList(name), "", true, nil)
	if err != nil {
		return nil, fmt.Errorf("create a layer on %s: %w", parent, err)
	}
	c := &Container{store: store, ID: l.ID, bare: true}
	// With no container record to hold it, the owner goes in the layer's
	// metadata: a later build can then tell that the process that made the
	// layer died (FindStale). Before the mount, so that no mounted layer
	// lacks it.
	if meta := ownerMetadata(); meta != "" {
		if err := store.SetMetadata(l.ID, meta); err != nil {
			return nil, errors.Join(fmt.Errorf("record the owner of layer %s: %w", l.ID, err), c.Remove())
		}
	}
	return mount(c)
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
