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
	if err := checkNotInside(dst, from); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dst, err)
	}
	if ents, err := os.ReadDir(dst); err != nil {
		return nil, fmt.Errorf("read %s: %w", dst, err)
	} else if len(ents) > 0 {
		return nil, fmt.Errorf("copy source into %s: the directory is not empty", dst)
	}
	type dirMeta struct {
		path  string
		mode  fs.FileMode
		mtime time.Time
	}
	var dirs []dirMeta
	var skipped []Special
	var whiteouts []named // checked once .s2iignore has had its say
	err = filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		slash := filepath.ToSlash(rel)
		if rel != "." && opt.Exclude != nil && opt.Exclude.MatchString(slash) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := d.Info() // Lstat: WalkDir never follows links
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		fromSource := filepath.ToSlash(filepath.Join(ctxDir, rel)) // as the user knows it
		if rel != "." && layer.IsWhiteout(d.Name()) {
			whiteouts = append(whiteouts, named{target, fromSource})
		}
		switch {
		case fi.IsDir():
			if rel != "." {
				// Owner-writable while we fill it; the real mode comes after.
				if err := os.Mkdir(target, 0o700); err != nil {
					return err
				}
			}
			dirs = append(dirs, dirMeta{target, fi.Mode(), fi.ModTime()})
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			if err := copyFile(path, target, fi); err != nil {
				return err
			}
		default:
			skipped = append(skipped, Special{Path: fromSource, Kind: specialKind(fi.Mode())})
			return nil
		}
		if opt.Owner != nil {
			if err := os.Lchown(target, opt.Owner.UID, opt.Owner.GID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return skipped, fmt.Errorf("copy source %s: %w", from, err)
	}
	if err := applyIgnore(dst); err != nil {
		return skipped, err
	}
	if err := refuseWhiteouts(whiteouts); err != nil {
		return skipped, err
	}
	// Children first, so setting a parent's mtime is the last touch.
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		err := os.Chmod(d.path, d.mode.Perm())
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted by .s2iignore
		}
		if err != nil {
			return skipped, fmt.Errorf("copy source: %w", err)
		}
		if err := os.Chtimes(d.path, d.mtime, d.mtime); err != nil {
			return skipped, fmt.Errorf("copy source: %w", err)
		}
	}
	return skipped, nil
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
