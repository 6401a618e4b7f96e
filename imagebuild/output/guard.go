package output

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// maxKept is the size up to which a layout's top-level file (index.json,
// oci-layout) is kept in memory before a write, to be put back after a
// failed one: the transport rewrites them in place.
const maxKept = 16 << 20

// entry is what tells one file apart from its replacement.
type entry struct {
	ino   uint64
	size  int64
	mtime time.Time
}

// state is the entries of a target, by path relative to the directory the
// write happens in ("" is that directory's own).
type state map[string]entry

// Guard is a write in progress: the target's state before it, to undo the
// write if it fails.
type Guard struct {
	t       Target
	root    string            // the directory the entries are relative to
	created string            // the first directory the write creates, "" if none
	before  state             // nil when created != ""
	kept    map[string][]byte // a layout's top-level files, as they were
}

// Begin records the target's state before a write.
func Begin(t Target) (*Guard, error) {
	g := &Guard{t: t, root: t.Path}
	if t.Kind == Archive {
		g.root = filepath.Dir(t.Path)
	}
	if t.Kind != Archive {
		c, err := firstMissing(t.Path)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", t.Path, err)
		}
		if g.created = c; c != "" {
			return g, nil
		}
	}
	var err error
	if g.before, err = scan(t, g.root); err != nil {
		return nil, err
	}
	if t.Kind == Layout {
		if g.kept, err = keep(g.root, g.before); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Rollback undoes a failed write: a directory the write created goes with
// all it holds; else what the write added (and, but in a layout, changed)
// is removed, and a layout's index.json and oci-layout are put back as
// they were. The blobs a layout had stay: their names are their content.
func (g *Guard) Rollback() error {
	if g.created != "" {
		if err := os.RemoveAll(g.created); err != nil {
			return fmt.Errorf("output %s: remove what the failed write created: %w", g.t.Path, err)
		}
		return nil
	}
	after, err := scan(g.t, g.root)
	if err != nil {
		return err
	}
	var errs []error
	for _, rel := range removals(g.t.Kind, g.before, after) {
		if err := os.RemoveAll(filepath.Join(g.root, rel)); err != nil {
			errs = append(errs, err)
		}
	}
	// Put back after the removals: they free the space this may need.
	for _, name := range slices.Sorted(maps.Keys(g.kept)) {
		if err := restore(filepath.Join(g.root, name), g.kept[name]); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("output %s: undo the failed write: %w", g.t.Path, err)
	}
	return nil
}

// Explain puts first what a failed write's error means when the file
// system is full.
func Explain(t Target, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("no space left on device for the output %s (what this build wrote there is removed): %w", t.Path, err)
	}
	return err
}

// removals is what a failed write leaves that must go, given the entries
// before and after it: in a layout, what is new (an existing blob that was
// written again holds the same bytes, and its old index may name it; its
// top-level files are put back, not removed); elsewhere, what is new or
// was replaced (an archive or a dir: image that was begun is not whole).
// Entries inside a removed directory are not listed again.
func removals(k Kind, before, after state) []string {
	var out []string
	for _, rel := range slices.Sorted(maps.Keys(after)) {
		if rel == "" || coveredBy(rel, out) {
			continue
		}
		old, existed := before[rel]
		switch {
		case !existed:
			out = append(out, rel)
		case k != Layout && old != after[rel]:
			out = append(out, rel)
		}
	}
	return out
}

// coveredBy reports whether rel lies in one of the directories dirs.
func coveredBy(rel string, dirs []string) bool {
	for _, d := range dirs {
		if len(rel) > len(d) && rel[:len(d)] == d && rel[len(d)] == '/' {
			return true
		}
	}
	return false
}

// scan lists the entries a write to t may add or replace: an archive's
// file; a dir: image's files; a layout's top-level entries and the
// entries of blobs/ and blobs/ALG/.
func scan(t Target, root string) (state, error) {
	s := state{}
	add := func(rel string) (fs.FileInfo, error) {
		fi, err := os.Lstat(filepath.Join(root, rel))
		if err != nil {
			return nil, err
		}
		e := entry{size: fi.Size(), mtime: fi.ModTime()}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			e.ino = st.Ino
		}
		s[rel] = e
		return fi, nil
	}
	if t.Kind == Archive {
		if _, err := add(filepath.Base(t.Path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("output %s: %w", t.Path, err)
		}
		return s, nil
	}
	depth := 1
	if t.Kind == Layout {
		depth = 3
	}
	var walk func(rel string, level int) error
	walk = func(rel string, level int) error {
		ents, err := os.ReadDir(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		for _, e := range ents {
			r := path.Join(rel, e.Name())
			fi, err := add(r)
			if errors.Is(err, fs.ErrNotExist) {
				continue // a temporary file that went meanwhile
			}
			if err != nil {
				return err
			}
			if fi.IsDir() && level < depth && (rel != "" || e.Name() == "blobs") {
				if err := walk(r, level+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk("", 1); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("output %s: %w", t.Path, err)
	}
	return s, nil
}

// keep reads a layout's top-level regular files (index.json, oci-layout).
func keep(root string, s state) (map[string][]byte, error) {
	out := map[string][]byte{}
	for rel, e := range s {
		if path.Dir(rel) != "." || e.size > maxKept {
			continue
		}
		p := filepath.Join(root, rel)
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", root, err)
		}
		out[rel] = b
	}
	return out, nil
}

// restore writes data to p unless p holds it already, through a temporary
// file and a rename, so that p is never half written.
func restore(p string, data []byte) error {
	if cur, err := os.ReadFile(p); err == nil && string(cur) == string(data) {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".pys2i-restore-")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if err := errors.Join(werr, f.Chmod(0o644), f.Close()); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), p); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

// firstMissing is the highest directory on the way to p that does not
// exist ("" if p exists): what a write that creates p's parents creates.
func firstMissing(p string) (string, error) {
	missing := ""
	for q := filepath.Clean(p); ; q = filepath.Dir(q) {
		_, err := os.Lstat(q)
		if err == nil {
			return missing, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if q == filepath.Dir(q) {
			return "", err
		}
		missing = q
	}
}
