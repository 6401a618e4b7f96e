package layer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
)

// Snapshot records a tree as it was: each entry's metadata, and each
// directory's names. A diff against it (WriteChanges, Changes) finds what
// changed since without a copy of the tree: the kernel moves a file's ctime
// on every change of its content or metadata, and no one can set it back.
type Snapshot struct {
	root    string
	entries map[string]recorded // by rel; "" is the root
	// unreadable are directories this process could not list: it cannot
	// have changed them either, and a diff leaves them out.
	unreadable map[string]bool
	exclude    func(rel string, isDir bool) bool // Record's
}

type recorded struct {
	mode         fs.FileMode
	uid, gid     uint32
	ino, size    int64
	mtime, ctime syscall.Timespec
	names        []string // a directory's children, sorted
}

// Record walks root (opt.Exclude applies) and returns its snapshot.
func Record(root string, opt Options) (*Snapshot, error) {
	s := &Snapshot{root: root, entries: map[string]recorded{}, unreadable: map[string]bool{}, exclude: opt.Exclude}
	if err := s.record(root, "", opt); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Snapshot) record(full, rel string, opt Options) error {
	fi, err := os.Lstat(full)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	r := recordOf(fi)
	if fi.IsDir() {
		names, err := readNames(full)
		if errors.Is(err, fs.ErrPermission) {
			s.unreadable[rel] = true
			s.entries[rel] = r
			return nil
		}
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		for _, n := range names {
			childRel := path.Join(rel, n)
			childFull := filepath.Join(full, n)
			cfi, err := os.Lstat(childFull)
			if err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
			if opt.Exclude != nil && opt.Exclude(childRel, cfi.IsDir()) {
				continue
			}
			r.names = append(r.names, n)
			if err := s.record(childFull, childRel, opt); err != nil {
				return err
			}
		}
	}
	s.entries[rel] = r
	return nil
}

func recordOf(fi fs.FileInfo) recorded {
	st := fi.Sys().(*syscall.Stat_t)
	return recorded{mode: fi.Mode(), uid: st.Uid, gid: st.Gid, ino: int64(st.Ino), size: st.Size, mtime: st.Mtim, ctime: st.Ctim}
}

func (s *Snapshot) names(rel string) ([]string, error) {
	return s.entries[rel].names, nil
}

func (s *Snapshot) same(rel, _ string, fi fs.FileInfo) (bool, bool, bool, error) {
	was, ok := s.entries[rel]
	if !ok {
		return false, false, false, nil
	}
	now := recordOf(fi)
	same := now.mode == was.mode && now.uid == was.uid && now.gid == was.gid && now.ino == was.ino && now.mtime == was.mtime
	if !fi.IsDir() {
		// A directory's ctime moves with every entry added or removed: its
		// children are compared one by one instead.
		same = same && now.size == was.size && now.ctime == was.ctime
	}
	return same, true, was.mode.IsDir(), nil
}

// WriteChanges writes to w, as an uncompressed tar layer, what changed in
// the snapshot's tree since it was recorded: new and changed entries, and
// a whiteout for each entry that is gone. opt is applied as by WriteDir
// (its Prefix names the tree's place in the image); what Record left out
// stays out.
func WriteChanges(w io.Writer, s *Snapshot, opt Options) error {
	lw := newWriter(w, s.options(opt))
	if err := lw.walk(s.root, "", s); err != nil {
		return err
	}
	return lw.close()
}

// Changes lists what WriteChanges would write, by name in the layer
// ("a/b", "a/.wh.c" for a deletion), reading no file's content.
func Changes(s *Snapshot, opt Options) ([]string, error) {
	var out []string
	lw := newWriter(io.Discard, s.options(opt))
	lw.list = func(name string) { out = append(out, name) }
	if err := lw.walk(s.root, "", s); err != nil {
		return nil, err
	}
	return out, nil
}

// options adds to opt's Exclude what Record left out: its own Exclude, and
// the directories it could not read.
func (s *Snapshot) options(opt Options) Options {
	exclude := opt.Exclude
	opt.Exclude = func(rel string, isDir bool) bool {
		return (isDir && s.unreadable[rel]) || (s.exclude != nil && s.exclude(rel, isDir)) || (exclude != nil && exclude(rel, isDir))
	}
	return opt
}
