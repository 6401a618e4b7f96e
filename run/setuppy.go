package run

import (
	"os"
	"path/filepath"
	"regexp"
)

// findSetupPy is `find "$HOME" -maxdepth 2 -type f -name setup.py -print
// -quit`: depth-first in directory order (unsorted, as find reads it),
// symlinks not followed. It returns the in-root path, or "".
func findSetupPy(root, home string) string {
	var walk func(dir string, depth int) string
	walk = func(dir string, depth int) string {
		f, err := os.Open(filepath.Join(root, dir))
		if err != nil {
			return ""
		}
		names, _ := f.Readdirnames(-1)
		f.Close()
		for _, n := range names {
			p := filepath.Join(dir, n)
			fi, err := os.Lstat(filepath.Join(root, p))
			if err != nil {
				continue
			}
			if n == "setup.py" && fi.Mode().IsRegular() {
				return p
			}
			if fi.IsDir() && depth < 2 {
				if hit := walk(p, depth+1); hit != "" {
					return hit
				}
			}
		}
		return ""
	}
	if home == "" {
		return ""
	}
	return walk(home, 1)
}

var setupNameRe = regexp.MustCompile(`\bname\s*=\s*(?:'([^'\\\n]+)'|"([^"\\\n]+)")`)

// staticSetupName reads the distribution name from setup.py without running
// it: the string literal given as name=..., when the file has exactly one
// distinct such literal. ok is false when it cannot tell.
func staticSetupName(src []byte) (string, bool) {
	seen := map[string]bool{}
	var name string
	for _, m := range setupNameRe.FindAllSubmatch(src, -1) {
		v := string(m[1]) + string(m[2])
		if !seen[v] {
			seen[v] = true
			name = v
		}
	}
	if len(seen) != 1 {
		return "", false
	}
	return name, true
}
