package s2iscripts

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// ListSource returns the script files in the prepared source at srcDir:
// name -> ".s2i/bin/NAME", or the deprecated ".sti/bin/NAME" when .s2i/bin
// lacks it. Only regular files count; a directory on the way that is a
// symlink is not followed.
func ListSource(srcDir string) (map[string]string, error) {
	out := map[string]string{}
	for _, dir := range []string{".sti/bin", ".s2i/bin"} { // .s2i last: it wins
		if !realDir(srcDir, dir) {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(srcDir, dir))
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() {
				out[e.Name()] = path.Join(dir, e.Name())
			}
		}
	}
	return out, nil
}

// realDir reports whether every component of rel under root is a directory
// and not a symlink.
func realDir(root, rel string) bool {
	p := root
	for _, c := range []string{path.Dir(rel), path.Base(rel)} {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p) // Lstat: a symlink is not a directory here
		if err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}
