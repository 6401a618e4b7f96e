// Package cacheprune bounds a directory of caches, one subdirectory each
// (pys2i's pip caches, one per output name): caches not used for a while
// go, then the oldest until the rest fit a size. A cache in use is never
// removed: its user holds a shared lock on it (Use), which the pruner
// must take exclusively first.
package cacheprune

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// Limits bound the caches; a zero field is no bound.
type Limits struct {
	MaxAge  time.Duration // remove caches last used longer ago than this
	MaxSize int64         // then the least recently used, until the total fits (bytes on disk)
}

// Entry is one cache as the decision sees it.
type Entry struct {
	Name     string
	LastUsed time.Time
	Size     int64
	InUse    bool // a build holds it: never removed, but its size counts
}

// Select is which caches to remove, oldest first: the unused ones older
// than MaxAge, then unused ones from the least recently used while the
// total is over MaxSize.
func Select(entries []Entry, now time.Time, l Limits) []string {
	es := slices.Clone(entries)
	slices.SortFunc(es, func(a, b Entry) int { return a.LastUsed.Compare(b.LastUsed) })
	var total int64
	for _, e := range es {
		total += e.Size
	}
	var out []string
	for _, e := range es {
		if e.InUse {
			continue
		}
		old := l.MaxAge > 0 && now.Sub(e.LastUsed) > l.MaxAge
		over := l.MaxSize > 0 && total > l.MaxSize
		if old || over {
			out = append(out, e.Name)
			total -= e.Size
		}
	}
	return out
}

// Use marks the cache dir as in use until release is called: created if
// missing, locked shared (a pruner skips it), its time of last use set to
// now. A pruner that removed it meanwhile is noticed and it is made again.
func Use(dir string) (release func() error, err error) {
	for range 3 {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("cache %s: %w", dir, err)
		}
		f, err := os.Open(dir)
		if err != nil {
			return nil, fmt.Errorf("cache %s: %w", dir, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
			f.Close()
			return nil, fmt.Errorf("cache %s: lock: %w", dir, err)
		}
		if same(f, dir) {
			now := time.Now()
			if err := os.Chtimes(dir, now, now); err != nil {
				f.Close()
				return nil, fmt.Errorf("cache %s: %w", dir, err)
			}
			return f.Close, nil // closing the file releases the lock
		}
		f.Close() // removed by a pruner between mkdir and lock
	}
	return nil, fmt.Errorf("cache %s: removed again and again while being opened", dir)
}

// same reports whether f is still the directory at path.
func same(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// Prune applies l to the caches in root (its subdirectories) and returns
// the names it removed. It locks each cache exclusively, without waiting,
// before looking at it: one it cannot lock is in use.
func Prune(root string, l Limits, now time.Time) ([]string, error) {
	if l.MaxAge <= 0 && l.MaxSize <= 0 {
		return nil, nil
	}
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("caches %s: %w", root, err)
	}
	var entries []Entry
	locks := map[string]*os.File{}
	defer func() {
		for _, f := range locks {
			f.Close()
		}
	}()
	for _, d := range ents {
		if !d.IsDir() {
			continue
		}
		e, f, err := inspect(filepath.Join(root, d.Name()), l.MaxSize > 0)
		if err != nil {
			continue // gone meanwhile, or not ours to read: left alone
		}
		if f != nil {
			locks[d.Name()] = f
		}
		entries = append(entries, e)
	}
	var removed []string
	var errs []error
	for _, name := range Select(entries, now, l) {
		if err := os.RemoveAll(filepath.Join(root, name)); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
	}
	return removed, errors.Join(errs...)
}

// inspect reads one cache: its time of last use (the directory's mtime,
// which Use sets), its size on disk (if sized: that walks it), and whether
// a build holds it; f is the exclusive lock on it when none does.
func inspect(dir string, sized bool) (e Entry, f *os.File, err error) {
	f, err = os.Open(dir)
	if err != nil {
		return e, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return e, nil, err
	}
	e = Entry{Name: filepath.Base(dir), LastUsed: fi.ModTime()}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		e.InUse, f = true, nil
	}
	if !sized {
		return e, f, nil
	}
	e.Size, err = diskUsage(dir)
	if err != nil && f != nil {
		f.Close()
		f = nil
	}
	return e, f, err
}

// diskUsage is the space the files under dir take (their blocks).
func diskUsage(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // pip removed it meanwhile
			}
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		}
		return nil
	})
	return n, err
}
