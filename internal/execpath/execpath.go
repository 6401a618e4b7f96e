// Package execpath finds a command as a shell does, against the PATH of a
// given environment: a child's, never this process's (exec.LookPath reads
// the process's own PATH).
package execpath

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/pys2i/pys2i/internal/envlist"
)

// Find resolves file: as is when it holds a slash (the exec reports a
// missing file), else in each entry of env's PATH in turn, an empty entry
// meaning ".". Relative entries are taken against dir ("" for the working
// directory). ok is false when no entry holds an executable regular file.
func Find(file string, env []string, dir string) (string, bool) {
	if strings.Contains(file, "/") {
		return file, true
	}
	for _, d := range filepath.SplitList(Path(env)) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, file)
		if dir != "" && !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// Path is env's PATH by envlist's rule (the last PATH= wins), which is the
// one os/exec applies too. Callers that exec without os/exec pass the child
// envlist.Merge(env), so the child's getenv sees the same PATH as Find.
func Path(env []string) string {
	return envlist.Get(env, "PATH")
}
