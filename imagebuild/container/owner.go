package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.podman.io/storage"
)

// Owner identifies the process that created a container: its PID, the
// PID's start time (so that a reused PID is not mistaken for it) and the
// boot (PIDs of another boot mean nothing). TempDir is the owner's
// os.TempDir(), where its build kept its temporary files.
type Owner struct {
	PID   int    `json:"pid"`
	Start uint64 `json:"start"` // field 22 of /proc/PID/stat, clock ticks since boot
	Boot  string `json:"boot"`  // /proc/sys/kernel/random/boot_id
	// PIDNS is the PID namespace the PID is in (/proc/self/ns/pid): from
	// another one, the PID cannot be checked.
	PIDNS   string `json:"pidns,omitempty"`
	TempDir string `json:"tmp,omitempty"`
}

// metadata is what Create stores as the container's metadata, and OnLayer
// as the layer's. The key is pys2i's own: podman's containers and layers
// never carry it.
type metadata struct {
	Owner *Owner `json:"pys2i-owner,omitempty"`
}

// Self is the current process as an Owner.
func Self() (Owner, error) {
	pid := os.Getpid()
	start, err := startTime(pid)
	if err != nil {
		return Owner{}, err
	}
	boot, err := bootID()
	if err != nil {
		return Owner{}, err
	}
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return Owner{PID: pid, Start: start, Boot: boot, PIDNS: ns, TempDir: os.TempDir()}, nil
}

// Alive reports whether the owner still runs. Any doubt (an unreadable
// boot id) counts as alive: a container is only ever removed for sure.
func (o Owner) Alive() bool {
	boot, err := bootID()
	if err != nil || o.PID <= 0 {
		return true
	}
	if boot != o.Boot {
		return false // a process of an earlier boot is gone
	}
	if ns, err := os.Readlink("/proc/self/ns/pid"); err != nil || ns != o.PIDNS {
		return true // another PID namespace's PID: it may well live
	}
	start, err := startTime(o.PID)
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err != nil {
		return true
	}
	return start == o.Start
}

// ownerMetadata is the metadata recording the current process as owner;
// "" if the process cannot be identified (the container then has no owner
// and is never swept).
func ownerMetadata() string {
	o, err := Self()
	if err != nil {
		return ""
	}
	b, err := json.Marshal(metadata{Owner: &o})
	if err != nil {
		return ""
	}
	return string(b)
}

// ParseOwner reads the owner from a container's or layer's metadata; ok is
// false for one that pys2i did not create (podman's, or one without an
// owner).
func ParseOwner(meta string) (Owner, bool) {
	var m metadata
	if err := json.Unmarshal([]byte(meta), &m); err != nil || m.Owner == nil || m.Owner.PID <= 0 {
		return Owner{}, false
	}
	return *m.Owner, true
}

// Stale is a build container, or a bare build layer, whose owner is gone.
type Stale struct {
	ID    string
	Names []string
	Owner Owner
	// Bare: ID is a read-write layer with no container record (OnLayer).
	Bare bool
}

// FindStale lists what builds of pys2i processes that are gone left in the
// store, named with prefix: the containers pys2i created (they carry an
// owner) and the bare layers it builds on (OnLayer; the owner is in a
// layer flag). Everything is listed at once, so that a layer is never
// taken for bare while its container is being created.
func FindStale(store storage.Store, prefix string) ([]Stale, error) {
	all, err := store.MultiList(storage.MultiListOptions{Layers: true, Images: true, Containers: true})
	if err != nil {
		return nil, fmt.Errorf("list the store's containers and layers: %w", err)
	}
	return findStale(all, prefix, Owner.Alive), nil
}

// findStale is FindStale's decision on a listing of the store; alive says
// whether an owner still runs. A layer that a container or an image uses,
// or that has a child, is never a bare build layer: a container's layer
// goes with its container, and the rest is not pys2i's to delete.
func findStale(all storage.MultiListResult, prefix string, alive func(Owner) bool) []Stale {
	var out []Stale
	used := map[string]bool{}
	for _, c := range all.Containers {
		used[c.LayerID] = true
		if o, ok := staleOwner(c.Names, c.Metadata, prefix, alive); ok {
			out = append(out, Stale{ID: c.ID, Names: c.Names, Owner: o})
		}
	}
	for _, img := range all.Images {
		used[img.TopLayer] = true
		for _, l := range img.MappedTopLayers {
			used[l] = true
		}
	}
	for _, l := range all.Layers {
		used[l.Parent] = true
	}
	for _, l := range all.Layers {
		if used[l.ID] {
			continue
		}
		owner, _ := l.Flags[OwnerFlag].(string)
		if o, ok := staleOwner(l.Names, owner, prefix, alive); ok {
			out = append(out, Stale{ID: l.ID, Names: l.Names, Owner: o, Bare: true})
		}
	}
	return out
}

// staleOwner is the owner of a container or layer named with prefix that
// pys2i created, if that owner is gone.
func staleOwner(names []string, meta, prefix string, alive func(Owner) bool) (Owner, bool) {
	if !hasPrefix(names, prefix) {
		return Owner{}, false
	}
	o, ok := ParseOwner(meta)
	if !ok || alive(o) {
		return Owner{}, false
	}
	return o, true
}

// RemoveStale unmounts what FindStale found (whatever its mount count) and
// deletes it: a container with its layer, or a bare layer. One already gone
// is not an error: another process may have swept it first.
func RemoveStale(store storage.Store, s Stale) error {
	what := "container"
	if s.Bare {
		what = "layer"
	}
	if _, err := store.Unmount(s.ID, true); err != nil && !gone(err) {
		return fmt.Errorf("unmount %s %s: %w", what, s.ID, err)
	}
	var err error
	if s.Bare {
		err = store.DeleteLayer(s.ID)
	} else {
		err = store.DeleteContainer(s.ID)
	}
	if err != nil && !gone(err) {
		return fmt.Errorf("delete %s %s: %w", what, s.ID, err)
	}
	return nil
}

func gone(err error) bool {
	return errors.Is(err, storage.ErrContainerUnknown) || errors.Is(err, storage.ErrNotAContainer) ||
		errors.Is(err, storage.ErrLayerUnknown) || errors.Is(err, storage.ErrNotALayer)
}

func hasPrefix(names []string, prefix string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

// startTime is field 22 of /proc/PID/stat. The command name (field 2) may
// hold spaces and parentheses: fields are counted after its last ')'.
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStartTime(string(b))
}

func parseStartTime(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat line %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): field 22 is f[19].
	if len(f) < 20 {
		return 0, fmt.Errorf("malformed /proc stat line %q", stat)
	}
	n, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed /proc stat start time %q", f[19])
	}
	return n, nil
}

func bootID() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
