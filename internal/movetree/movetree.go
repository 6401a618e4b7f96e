// Package movetree moves a file or directory tree as mv does: a rename, or
// across file systems (EXDEV) a copy that keeps modes, times and symlinks,
// then removal of the source. The in-image programs move the source into
// $HOME and restore saved dependencies with it.
package movetree

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pys2i/pys2i/internal/copyfile"
)

// Move renames from to to; across file systems it copies, then removes from.
// Like os.Rename, it refuses an existing directory at to.
func Move(from, to string) error {
	err := os.Rename(from, to)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	if err := Copy(from, to); err != nil {
		return err
	}
	return os.RemoveAll(from)
}

// Copy copies a file, link or directory tree, keeping modes and times;
// symlinks are copied as links, never followed.
func Copy(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		target := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			os.Remove(target)
			return os.Symlink(l, target)
		case d.IsDir():
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
		default:
			if err := copyFile(p, target, info.Mode()); err != nil {
				return err
			}
		}
		if err := os.Chmod(target, info.Mode()&fs.ModePerm|info.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return err
		}
		return os.Chtimes(target, info.ModTime(), info.ModTime())
	})
}

func copyFile(from, to string, mode fs.FileMode) error {
	return copyfile.Copy(from, false, func() (*os.File, error) {
		return os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode.Perm()|0o200)
	})
}
