package assemble

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// MoveSource is upstream's `shopt -s dotglob; mv /tmp/src/* "$HOME"`: every
// entry of src, dotfiles included, is moved into dst. An empty or missing src
// fails as the unmatched glob makes mv fail. Entries that cannot be moved
// are reported as mv does and the others still moved; the result is an error
// if any failed. Across file systems (EXDEV) an entry is copied, then removed.
func MoveSource(src, dst string, stderr io.Writer) error {
	ents, err := os.ReadDir(src)
	if err != nil || len(ents) == 0 {
		fmt.Fprintf(stderr, "mv: cannot stat '%s/*': No such file or directory\n", src)
		if err == nil {
			return fmt.Errorf("the source directory %s is empty", src)
		}
		return fmt.Errorf("no source in %s: %w", src, err)
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	sort.Strings(names)
	var failed []string
	for _, n := range names {
		from, to := filepath.Join(src, n), filepath.Join(dst, n)
		if err := move(from, to); err != nil {
			if errors.Is(err, syscall.EEXIST) {
				err = syscall.ENOTEMPTY // rename(2) may say either; mv says this
			}
			fmt.Fprintf(stderr, "mv: cannot move '%s' to '%s': %v\n", from, to, errText(err))
			failed = append(failed, n)
		}
	}
	if failed != nil {
		return fmt.Errorf("could not move %d of %d entries of %s into %s", len(failed), len(names), src, dst)
	}
	return nil
}

func move(from, to string) error {
	err := os.Rename(from, to)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	if st, err := os.Lstat(to); err == nil && st.IsDir() {
		if err := os.Remove(to); err != nil { // mv replaces only an empty directory
			return err
		}
	}
	if err := copyTree(from, to); err != nil {
		return err
	}
	return os.RemoveAll(from)
}

// copyTree copies a file, link or directory tree, keeping modes and times.
func copyTree(from, to string) error {
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
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode.Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// errText is the strerror text coreutils prints ("Permission denied").
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := []rune(errno.Error())
		if len(s) > 0 && s[0] >= 'a' && s[0] <= 'z' {
			s[0] -= 'a' - 'A'
		}
		return string(s)
	}
	return err.Error()
}
