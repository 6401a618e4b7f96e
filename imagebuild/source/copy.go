package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pys2i/pys2i/imagebuild/layer"
	"github.com/pys2i/pys2i/internal/copyfile"
)

// copyTree copies root/ctxDir into dst as described in the package comment and
// returns the special files it skipped.
func copyTree(ctx context.Context, root, ctxDir, dst string, opt Options) ([]Special, error) {
	// The root itself may be a symlink (the user named it): resolve it once,
	// so the walk starts in the real directory.
	resolved, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", root, err)
	}
	from, err := contextRoot(resolved, ctxDir)
	if err != nil {
		return nil, err
	}
	if err := emptyDest(dst, from); err != nil {
		return nil, err
	}
	c := &treeCopy{ctx: ctx, from: from, ctxDir: ctxDir, dst: dst, opt: opt}
	if err := filepath.WalkDir(from, c.visit); err != nil {
		return c.skipped, fmt.Errorf("copy source %s: %w", from, err)
	}
	if err := applyIgnore(dst); err != nil {
		return c.skipped, err
	}
	if err := refuseWhiteouts(c.whiteouts); err != nil {
		return c.skipped, err
	}
	return c.skipped, c.finishDirs()
}

// emptyDest makes dst, which must not be inside from and must be empty.
func emptyDest(dst, from string) error {
	if err := checkNotInside(dst, from); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	if ents, err := os.ReadDir(dst); err != nil {
		return fmt.Errorf("read %s: %w", dst, err)
	} else if len(ents) > 0 {
		return fmt.Errorf("copy source into %s: the directory is not empty", dst)
	}
	return nil
}

// treeCopy is one copy of the source tree from from to dst.
type treeCopy struct {
	ctx               context.Context
	from, ctxDir, dst string
	opt               Options
	dirs              []dirMeta
	skipped           []Special
	whiteouts         []named // checked once .s2iignore has had its say
}

// dirMeta is a copied directory's mode and mtime, set once it is filled.
type dirMeta struct {
	path  string
	mode  fs.FileMode
	mtime time.Time
}

// visit copies one entry of the walk (never following a link).
func (c *treeCopy) visit(path string, d fs.DirEntry, err error) error {
	if err != nil {
		return err
	}
	if err := c.ctx.Err(); err != nil {
		return err
	}
	rel, err := filepath.Rel(c.from, path)
	if err != nil {
		return err
	}
	slash := filepath.ToSlash(rel)
	if rel != "." && c.opt.Exclude != nil && c.opt.Exclude.MatchString(slash) {
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	}
	fi, err := d.Info() // Lstat: WalkDir never follows links
	if err != nil {
		return err
	}
	target := filepath.Join(c.dst, rel)
	fromSource := filepath.ToSlash(filepath.Join(c.ctxDir, rel)) // as the user knows it
	if rel != "." && layer.IsWhiteout(d.Name()) {
		c.whiteouts = append(c.whiteouts, named{target, fromSource})
	}
	copied, err := c.copyEntry(path, target, rel, fi)
	if err != nil || !copied {
		if err == nil {
			c.skipped = append(c.skipped, Special{Path: fromSource, Kind: specialKind(fi.Mode())})
		}
		return err
	}
	if c.opt.Owner != nil {
		return os.Lchown(target, c.opt.Owner.UID, c.opt.Owner.GID)
	}
	return nil
}

// copyEntry copies a directory, symlink or regular file; it reports false
// for anything else (a device, a socket, a FIFO), which is left out.
func (c *treeCopy) copyEntry(path, target, rel string, fi fs.FileInfo) (bool, error) {
	switch {
	case fi.IsDir():
		if rel != "." {
			// Owner-writable while we fill it; the real mode comes after.
			if err := os.Mkdir(target, 0o700); err != nil {
				return true, err
			}
		}
		c.dirs = append(c.dirs, dirMeta{target, fi.Mode(), fi.ModTime()})
	case fi.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(path)
		if err != nil {
			return true, err
		}
		return true, os.Symlink(link, target)
	case fi.Mode().IsRegular():
		return true, copyFile(path, target, fi)
	default:
		return false, nil
	}
	return true, nil
}

// finishDirs gives the copied directories their modes and mtimes,
// children first, so setting a parent's mtime is the last touch.
func (c *treeCopy) finishDirs() error {
	for i := len(c.dirs) - 1; i >= 0; i-- {
		d := c.dirs[i]
		err := os.Chmod(d.path, d.mode.Perm())
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted by .s2iignore
		}
		if err != nil {
			return fmt.Errorf("copy source: %w", err)
		}
		if err := os.Chtimes(d.path, d.mtime, d.mtime); err != nil {
			return fmt.Errorf("copy source: %w", err)
		}
	}
	return nil
}

// copyFile copies a regular file with its permission bits (not setuid,
// setgid or sticky: a source must not bring privileges) and mtime.
func copyFile(src, dst string, fi fs.FileInfo) error {
	// O_NOFOLLOW: if src became a symlink since it was listed, fail rather
	// than read what it points to.
	if err := copyfile.Copy(src, true, func() (*os.File, error) {
		return os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}); err != nil {
		return err
	}
	if err := os.Chmod(dst, fi.Mode().Perm()); err != nil {
		return err
	}
	return os.Chtimes(dst, fi.ModTime(), fi.ModTime())
}

// contextRoot returns root/ctxDir after checking that every component of
// ctxDir is a real directory: a symlinked component could lead outside.
func contextRoot(root, ctxDir string) (string, error) {
	p := root
	if ctxDir == "" {
		return p, nil
	}
	for _, c := range strings.Split(ctxDir, string(filepath.Separator)) {
		p = filepath.Join(p, c)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("--context-dir %s does not exist in the source", ctxDir)
		case err != nil:
			return "", fmt.Errorf("--context-dir %s: %w", ctxDir, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", fmt.Errorf("--context-dir %s: %s is a symlink, which is not followed", ctxDir, p)
		case !fi.IsDir():
			return "", fmt.Errorf("--context-dir %s is not a directory", ctxDir)
		}
	}
	return p, nil
}

// checkNotInside refuses a destination inside the tree being copied, which
// would copy itself (s2i's "recursive copy" error).
func checkNotInside(dst, from string) error {
	d, err := realPath(dst)
	if err != nil {
		return err
	}
	f, err := filepath.EvalSymlinks(from)
	if err != nil {
		return err
	}
	if d == f || strings.HasPrefix(d, f+string(filepath.Separator)) {
		return fmt.Errorf("the work directory %s is inside the source %s: choose one outside it", dst, from)
	}
	return nil
}

// realPath resolves symlinks in the longest existing prefix of p.
func realPath(p string) (string, error) {
	p, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	var rest []string
	for {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(append([]string{r}, rest...)...), nil
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", err
		}
		rest = append([]string{filepath.Base(p)}, rest...)
		p = parent
	}
}
