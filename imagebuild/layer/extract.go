package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Extract lays the uncompressed layer r into root as a container runtime
// would, keeping each entry's owner, mode and modification time. Every
// operation goes through root, so no name, symlink or hard link in the
// layer reaches outside it. rename maps an entry's name (slash-separated,
// no leading "/") to where it goes in root; entries it refuses are skipped.
// Whiteouts are an error: a layer that deletes cannot be laid over a tree
// that lacks what it deletes. Devices and FIFOs are skipped.
//
// It returns the names (after rename) of what it extracted.
func Extract(r io.Reader, root *os.Root, rename func(name string) (string, bool)) ([]string, error) {
	return extract(r, root, rename, false)
}

// ExtractOnto lays the uncompressed layer r into root, the tree the layer
// was made on, as this (unprivileged) user: what it writes is this user's
// (owners are not set), a directory already there keeps its own metadata,
// and whiteouts delete what they name. It is how a dependency layer is put
// back under a tree that a build then changes in place.
func ExtractOnto(r io.Reader, root *os.Root, rename func(name string) (string, bool)) ([]string, error) {
	return extract(r, root, rename, true)
}

func extract(r io.Reader, root *os.Root, rename func(name string) (string, bool), onto bool) ([]string, error) {
	t := newDirs(root)
	defer t.close()
	tr := tar.NewReader(r)
	var names []string
	type dirTime struct {
		name string
		t    time.Time
	}
	var dirs []dirTime
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return names, fmt.Errorf("read layer: %w", err)
		}
		clean := strings.Trim(path.Clean("/"+hdr.Name), "/")
		if strings.HasPrefix(path.Base(clean), ".wh.") {
			if !onto {
				return names, fmt.Errorf("layer entry %s is a whiteout", hdr.Name)
			}
			if err := whiteout(t, clean, rename); err != nil {
				return names, fmt.Errorf("extract %s: %w", hdr.Name, err)
			}
			continue
		}
		name, ok := rename(clean)
		if !ok || name == "" {
			continue
		}
		if onto && hdr.Typeflag == tar.TypeDir {
			if fi, err := t.lstat(filepath.FromSlash(name)); err == nil && fi.IsDir() {
				continue // the tree's own directory: its metadata stays
			}
		}
		done, err := extractEntry(t, tr, hdr, name, rename, onto)
		if err != nil {
			return names, fmt.Errorf("extract %s: %w", hdr.Name, err)
		}
		if !done {
			continue
		}
		if hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, dirTime{name, hdr.ModTime})
		}
		names = append(names, name)
	}
	// A directory's time is set once its entries are written: writing them
	// changes it.
	for _, d := range slices.Backward(dirs) {
		dr, base, err := t.at(filepath.FromSlash(d.name))
		if err == nil {
			err = dr.Chtimes(base, d.t, d.t)
		}
		if err != nil {
			return names, fmt.Errorf("extract %s: %w", d.name, err)
		}
	}
	return names, nil
}

// extractEntry writes one entry at name; false for an entry it skips.
func extractEntry(t *dirs, tr *tar.Reader, hdr *tar.Header, name string, rename func(string) (string, bool), asUser bool) (bool, error) {
	p := filepath.FromSlash(name)
	dir, base, err := t.at(p)
	if err != nil {
		return false, err
	}
	perm := tarMode(hdr.Mode)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if fi, err := dir.Lstat(base); err == nil && !fi.IsDir() {
			if err := dir.Remove(base); err != nil {
				return false, err
			}
		}
		if err := dir.Mkdir(base, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, err
		}
	case tar.TypeReg:
		if err := removeNonDir(t, dir, p, base); err != nil {
			return false, err
		}
		f, err := dir.OpenFile(base, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return false, err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return false, err
		}
	case tar.TypeSymlink:
		if err := removeNonDir(t, dir, p, base); err != nil {
			return false, err
		}
		if err := dir.Symlink(hdr.Linkname, base); err != nil {
			return false, err
		}
	case tar.TypeLink:
		target, ok := rename(strings.Trim(path.Clean("/"+hdr.Linkname), "/"))
		if !ok {
			return false, fmt.Errorf("hard link to %s, which is not extracted", hdr.Linkname)
		}
		if err := removeNonDir(t, dir, p, base); err != nil {
			return false, err
		}
		return true, t.root.Link(filepath.FromSlash(target), p)
	default:
		return false, nil
	}
	if !asUser {
		if err := dir.Lchown(base, hdr.Uid, hdr.Gid); err != nil {
			return false, err
		}
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return true, nil
	}
	// After the owner: chown clears setuid and setgid bits.
	if err := dir.Chmod(base, perm); err != nil {
		return false, err
	}
	if hdr.Typeflag == tar.TypeReg {
		if err := dir.Chtimes(base, hdr.ModTime, hdr.ModTime); err != nil {
			return false, err
		}
	}
	return true, nil
}

// whiteout applies a whiteout entry (rel: its clean name): ".wh.x" removes
// x, ".wh..wh..opq" empties its directory.
func whiteout(t *dirs, rel string, rename func(string) (string, bool)) error {
	dir, base := path.Split(rel)
	if base == WhiteoutPrefix+WhiteoutPrefix+".opq" {
		d, ok := rename(strings.TrimSuffix(dir, "/"))
		if !ok || d == "" {
			return nil
		}
		names, err := fs.ReadDir(t.root.FS(), filepath.FromSlash(d))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, n := range names {
			p := filepath.Join(filepath.FromSlash(d), n.Name())
			t.evict(p)
			if err := t.root.RemoveAll(p); err != nil {
				return err
			}
		}
		return nil
	}
	target, ok := rename(path.Join(dir, strings.TrimPrefix(base, WhiteoutPrefix)))
	if !ok || target == "" {
		return nil
	}
	p := filepath.FromSlash(target)
	t.evict(p)
	return t.root.RemoveAll(p)
}

// tarMode is a tar header's mode as an os file mode: permissions plus the
// setuid, setgid and sticky bits.
func tarMode(m int64) fs.FileMode {
	mode := fs.FileMode(m) & fs.ModePerm
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// removeNonDir removes what is at p (base in dir) unless it is a directory
// (which an entry of another kind cannot replace: that is an error when
// writing).
func removeNonDir(t *dirs, dir *os.Root, p, base string) error {
	fi, err := dir.Lstat(base)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("a directory is in the way")
	}
	t.evict(p)
	return dir.Remove(base)
}
