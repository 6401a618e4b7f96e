// Package output is where a build writes its image when TAG names a file
// or a directory (oci:, dir:, oci-archive:, docker-archive:): whether that
// place can be written, checked before the build starts, and what a failed
// write left there, removed, so that a full disk does not stay full and no
// layout or archive claims to hold an image it does not.
package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Kind is how a transport lays an image out on the file system.
type Kind int

const (
	// Layout is an OCI image layout (oci:): blobs named by their digest,
	// shared by every image of the layout, and index.json naming the images.
	Layout Kind = iota + 1
	// Dir is one image in a directory (dir:), which the transport empties
	// before it writes.
	Dir
	// Archive is one tar file (oci-archive:, docker-archive:).
	Archive
)

// Target is the file or directory a write goes to.
type Target struct {
	Kind Kind
	Path string
	// NoOverwrite: the transport refuses a non-empty file at Path
	// (docker-archive does not add to an existing archive).
	NoOverwrite bool
}

// Of returns the target of a reference in transport, given as the
// transport's StringWithinTransport; ok is false for transports that do
// not write a local file or directory (docker, containers-storage).
func Of(transport, within string) (t Target, ok bool) {
	// These transports split "PATH:IMAGE" at the first colon.
	path, _, _ := strings.Cut(within, ":")
	switch transport {
	case "oci":
		return Target{Kind: Layout, Path: path}, path != ""
	case "dir":
		return Target{Kind: Dir, Path: within}, within != ""
	case "oci-archive":
		return Target{Kind: Archive, Path: path}, path != ""
	case "docker-archive":
		return Target{Kind: Archive, Path: path, NoOverwrite: true}, path != ""
	}
	return Target{}, false
}

// parentToWrite is the existing directory in which the write creates or
// changes its first entry: a directory target itself when it exists, else
// its nearest existing ancestor (the transports create the missing ones);
// an archive's own directory (the transports do not create it).
func (t Target) parentToWrite() (string, error) {
	if t.Kind == Archive {
		dir := filepath.Dir(t.Path)
		fi, err := os.Stat(dir)
		if err != nil {
			return "", fmt.Errorf("output %s: directory %s: %w", t.Path, dir, err)
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("output %s: %s is not a directory", t.Path, dir)
		}
		return dir, nil
	}
	for p := t.Path; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return "", fmt.Errorf("output %s: %s is not a directory", t.Path, p)
			}
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || p == filepath.Dir(p) {
			return "", fmt.Errorf("output %s: %w", t.Path, err)
		}
	}
}

// Check makes sure the write can begin: the directory it writes in exists
// and a file can be created in it (a probe, removed at once). It says
// nothing about space: that is known only when the image is written.
func (t Target) Check() error {
	dir, err := t.parentToWrite()
	if err != nil {
		return err
	}
	if fi, err := os.Stat(t.Path); t.NoOverwrite && err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		return fmt.Errorf("output %s exists: this transport does not add to an existing archive (remove it, or write another file)", t.Path)
	}
	f, err := os.CreateTemp(dir, ".pys2i-probe-")
	if err != nil {
		return fmt.Errorf("output %s: cannot write in %s: %w", t.Path, dir, pathErr(err))
	}
	name := f.Name()
	return errors.Join(f.Close(), os.Remove(name))
}

// pathErr is err without the path a *fs.PathError repeats.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
