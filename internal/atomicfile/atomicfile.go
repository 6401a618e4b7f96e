// Package atomicfile replaces a file's content whole or not at all: the
// bytes go to a temp file beside it, which is then renamed over it, so a
// reader (or a step killed halfway) never sees half of it.
package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path's content by data, with mode perm.
func Write(path string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // gone once renamed; cleans up a failure
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
