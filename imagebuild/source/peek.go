package source

import (
	"io/fs"
	"os"
	"path/filepath"
)

// LocalContext returns the context directory of a local source built as it
// is on disk (no --ref) when the copy would hold each of paths (slash-
// separated, relative to it) as they are there: none excluded, deleted by
// .s2iignore or a symlink. Otherwise "", and the caller waits for the copy.
// It lets a build check a file of the source before it pulls or creates
// anything; errors are left to Prepare, which reports them.
func LocalContext(opt Options, paths ...string) string {
	if Classify(opt.Source) != Local || opt.Ref != "" {
		return ""
	}
	ctxDir, err := CleanContextDir(opt.ContextDir)
	if err != nil {
		return ""
	}
	root, err := filepath.EvalSymlinks(opt.Source)
	if err != nil {
		return ""
	}
	dir, err := contextRoot(root, ctxDir)
	if err != nil {
		return ""
	}
	for _, p := range paths {
		fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil || fi.Mode()&fs.ModeSymlink != 0 || (opt.Exclude != nil && opt.Exclude.MatchString(p)) {
			return ""
		}
	}
	lines, err := readIgnore(dir)
	if err != nil || len(Ignored(lines, paths)) > 0 {
		return ""
	}
	return dir
}
