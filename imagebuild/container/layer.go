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
	return onLayer(store, parent, name, ownerMetadata())
}

// OwnerFlag is the layer flag that holds a bare layer's owner (the same
// JSON as a container's metadata). With no container record to hold it,
// the owner goes in the layer, so that a later build can tell that the
// process that made the layer died (FindStale). A flag, not the layer's
// metadata, because storage writes the flags with the layer's first record:
// there is no moment when the layer exists without its owner.
const OwnerFlag = "pys2i-owner"

func onLayer(store storage.Store, parent, name, owner string) (*Container, error) {
	var opts *storage.LayerOptions
	if owner != "" {
		opts = &storage.LayerOptions{Flags: map[string]any{OwnerFlag: owner}}
	}
	l, err := store.CreateLayer("", parent, nameList(name), "", true, opts)
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
