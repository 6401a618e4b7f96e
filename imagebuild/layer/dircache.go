package layer

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// dirs is a tree under a root with its directories kept open: an entry is
// then written by one call on its parent (an openat of one name), where the
// root itself would resolve every component of the path again, each time.
// Each directory is opened from its parent's handle, within it, so no
// symlink leads out of the root. Whatever removes a directory evicts it.
type dirs struct {
	root *os.Root
	open map[string]*os.Root // by slash-less relative path; "." is root
}

func newDirs(root *os.Root) *dirs {
	return &dirs{root: root, open: map[string]*os.Root{".": root}}
}

// close closes every handle but the root (the caller's).
func (d *dirs) close() {
	for p, r := range d.open {
		if p != "." {
			r.Close()
		}
	}
	d.open = map[string]*os.Root{".": d.root}
}

// dir returns the open handle of directory p (relative, OS separators),
// creating it and its parents (mode 0755) as needed.
func (d *dirs) dir(p string) (*os.Root, error) {
	p = filepath.Clean(p)
	if r, ok := d.open[p]; ok {
		return r, nil
	}
	parent, err := d.dir(filepath.Dir(p))
	if err != nil {
		return nil, err
	}
	base := filepath.Base(p)
	if err := parent.Mkdir(base, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	r, err := parent.OpenRoot(base)
	if err != nil {
		return nil, err
	}
	d.open[p] = r
	return r, nil
}

// at returns p's parent handle and p's last name.
func (d *dirs) at(p string) (*os.Root, string, error) {
	r, err := d.dir(filepath.Dir(p))
	return r, filepath.Base(p), err
}

// evict forgets p and what is under it: it was removed or replaced.
func (d *dirs) evict(p string) {
	p = filepath.Clean(p)
	prefix := p + string(filepath.Separator)
	for k, r := range d.open {
		if k != "." && (k == p || strings.HasPrefix(k, prefix) || p == ".") {
			r.Close()
			delete(d.open, k)
		}
	}
}

// lstat is Lstat of p through its parent's handle.
func (d *dirs) lstat(p string) (fs.FileInfo, error) {
	r, base, err := d.at(p)
	if err != nil {
		return nil, err
	}
	return r.Lstat(base)
}
