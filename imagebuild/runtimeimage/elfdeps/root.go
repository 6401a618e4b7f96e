// Package elfdeps decides whether an image can run a build's artifacts: the
// interpreter a venv points to exists there, and every shared library that
// the artifacts' ELF files need (DT_NEEDED, transitively) is found the way
// the dynamic loader would find it (RPATH, RUNPATH with $ORIGIN,
// LD_LIBRARY_PATH, /etc/ld.so.conf, the default directories).
//
// The image is seen through Root, a read-only view of a file system whose
// paths are absolute paths inside the image; symlinks are resolved here,
// inside that view, never on the host.
package elfdeps

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Root is a read-only file system addressed by absolute, clean image paths
// whose directories are not symlinks (Resolve makes them so).
type Root interface {
	Lstat(p string) (fs.FileInfo, error)
	Readlink(p string) (string, error)
	Open(p string) (File, error)
	ReadDir(p string) ([]string, error)
}

// File is an open regular file.
type File interface {
	io.ReaderAt
	io.Reader
	io.Closer
}

// Dir is a Root on a host directory (an unpacked or mounted image).
type Dir string

func (d Dir) host(p string) string { return filepath.Join(string(d), filepath.FromSlash(p)) }

func (d Dir) Lstat(p string) (fs.FileInfo, error) { return os.Lstat(d.host(p)) }
func (d Dir) Readlink(p string) (string, error)   { return os.Readlink(d.host(p)) }
func (d Dir) Open(p string) (File, error) {
	f, err := os.Open(d.host(p))
	if err != nil {
		return nil, err
	}
	return f, nil
}
func (d Dir) ReadDir(p string) ([]string, error) {
	f, err := os.Open(d.host(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	sort.Strings(names)
	return names, err
}

// Mount places Root at At (absolute) over the lower view.
type Mount struct {
	At   string
	Root Root // addressed as if At were its "/"
}

// Overlay is Lower with Mounts laid over it: a path at or under a mount's
// At is looked up in that mount (the last, deepest match wins), everything
// else in Lower. It is the image as it will be: the runtime image with the
// artifacts copied onto it.
type Overlay struct {
	Lower  Root
	Mounts []Mount
}

func (o Overlay) pick(p string) (Root, string) {
	best, bestLen := -1, -1
	for i, m := range o.Mounts {
		if p == m.At || m.At == "/" || strings.HasPrefix(p, m.At+"/") {
			if len(m.At) >= bestLen {
				best, bestLen = i, len(m.At)
			}
		}
	}
	if best < 0 {
		return o.Lower, p
	}
	m := o.Mounts[best]
	rel := strings.TrimPrefix(p, m.At)
	if rel == "" {
		rel = "/"
	}
	return m.Root, path.Join("/", rel)
}

func (o Overlay) Lstat(p string) (fs.FileInfo, error) {
	r, q := o.pick(p)
	fi, err := r.Lstat(q)
	if errors.Is(err, fs.ErrNotExist) {
		// A mount point's parents exist in the image even where the lower
		// lacks them: the copy creates them.
		for _, m := range o.Mounts {
			if p == "/" || strings.HasPrefix(m.At, p+"/") {
				return dirInfo(path.Base(p)), nil
			}
		}
	}
	return fi, err
}
func (o Overlay) Readlink(p string) (string, error) { r, q := o.pick(p); return r.Readlink(q) }
func (o Overlay) Open(p string) (File, error)       { r, q := o.pick(p); return r.Open(q) }
func (o Overlay) ReadDir(p string) ([]string, error) {
	r, q := o.pick(p)
	names, err := r.ReadDir(q)
	// Mount points directly under p show up even if the lower lacks them.
	seen := map[string]bool{}
	for _, n := range names {
		seen[n] = true
	}
	for _, m := range o.Mounts {
		if m.At != "/" && path.Dir(m.At) == p && !seen[path.Base(m.At)] {
			names = append(names, path.Base(m.At))
			seen[path.Base(m.At)] = true
			err = nil
		}
	}
	sort.Strings(names)
	return names, err
}

// maxLinks bounds symlink resolution, as the kernel's ELOOP does.
const maxLinks = 40

// ErrLoop reports too many symlinks.
var ErrLoop = errors.New("too many levels of symbolic links")

// Resolve returns p (absolute) with every symlink resolved inside r, and
// whether the result exists. A dangling link gives its target and false.
func Resolve(r Root, p string) (string, bool, error) {
	links := 0
	todo := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	cur := "/"
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		fi, err := r.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || isNotDir(err) {
			rest := append([]string{next}, todo...)
			return path.Join(rest...), false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", next, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if len(todo) > 0 && !fi.IsDir() {
				return path.Join(append([]string{next}, todo...)...), false, nil
			}
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", false, fmt.Errorf("%s: %w", p, ErrLoop)
		}
		target, err := r.Readlink(next)
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", next, err)
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	return cur, true, nil
}

func isNotDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not a directory")
}

// dirInfo is a directory that exists only as a mount point's parent.
type dirInfo string

func (d dirInfo) Name() string       { return string(d) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }
