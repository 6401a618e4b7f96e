package artifacts

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pys2i/pys2i/internal/movetree"
)

// Paths are where the state comes from in the image.
type Paths struct {
	AppRoot  string // the venv, /opt/app-root
	Home     string // the source, /opt/app-root/src (not saved)
	StateDir string // contract.DefaultStateDir
}

// Save writes the dependency state as a tar to w: the fingerprint, the venv
// ($APP_ROOT without $HOME), $HOME/.local and the pip cache, then a
// COMPLETE marker. Without a fingerprint (no successful pys2i build) it
// writes an empty tar.
func Save(w io.Writer, p Paths) error {
	tw := tar.NewWriter(w)
	fpPath := filepath.Join(p.StateDir, FingerprintFile)
	if _, err := os.Stat(fpPath); err != nil {
		return tw.Close()
	}
	if err := addTree(tw, fpPath, Root+"/"+FingerprintFile, nil); err != nil {
		return err
	}
	skip := map[string]bool{filepath.Clean(p.Home): true}
	if err := addTree(tw, p.AppRoot, Root+"/"+VenvDir, skip); err != nil {
		return err
	}
	for _, t := range []struct{ src, dst string }{
		{filepath.Join(p.Home, ".local"), LocalDir},
		{filepath.Join(p.StateDir, CacheDir), CacheDir},
	} {
		if _, err := os.Lstat(t.src); err == nil {
			if err := addTree(tw, t.src, Root+"/"+t.dst, nil); err != nil {
				return err
			}
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: Root + "/" + CompleteFile, Mode: 0o664, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	return tw.Close()
}

func addTree(tw *tar.Writer, src, name string, skip map[string]bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip[filepath.Clean(p)] {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(filepath.Join(name, rel))
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
}

// Found is dependency state found in the artifacts directory.
type Found struct {
	Dir         string // ARTIFACTS/pys2i-artifacts
	Fingerprint Fingerprint
}

// Find looks for complete state under artifactsDir (what s2i extracted
// from the previous image's save-artifacts tar). Incomplete or corrupt
// state is reported as an error and must be ignored.
func Find(artifactsDir string) (*Found, error) {
	dir := filepath.Join(artifactsDir, Root)
	if _, err := os.Stat(dir); err != nil {
		return nil, nil
	}
	if _, err := os.Stat(filepath.Join(dir, CompleteFile)); err != nil {
		return nil, fmt.Errorf("incomplete dependency state in %s (no %s)", dir, CompleteFile)
	}
	fp, err := Read(filepath.Join(dir, FingerprintFile))
	if err != nil {
		return nil, err
	}
	return &Found{Dir: dir, Fingerprint: fp}, nil
}

// RestoreCache moves the saved pip cache into the state directory.
func (f *Found) RestoreCache(p Paths) error {
	src := filepath.Join(f.Dir, CacheDir)
	if _, err := os.Stat(src); err != nil {
		return nil
	}
	dst := filepath.Join(p.StateDir, CacheDir)
	if err := os.MkdirAll(p.StateDir, 0o775); err != nil {
		return err
	}
	os.RemoveAll(dst)
	return movetree.Move(src, dst)
}

// RestoreDeps puts the saved venv (every entry of $APP_ROOT but $HOME) and
// $HOME/.local in place. Entries are staged next to their target first, then
// swapped in; on error the caller must fail the build.
func (f *Found) RestoreDeps(p Paths) error {
	venv := filepath.Join(f.Dir, VenvDir)
	ents, err := os.ReadDir(venv)
	if err != nil {
		return fmt.Errorf("saved venv unreadable: %w", err)
	}
	home := filepath.Clean(p.Home)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if filepath.Join(p.AppRoot, e.Name()) != home {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if err := replace(filepath.Join(venv, n), filepath.Join(p.AppRoot, n)); err != nil {
			return err
		}
	}
	if _, err := os.Lstat(filepath.Join(f.Dir, LocalDir)); err == nil {
		if err := replace(filepath.Join(f.Dir, LocalDir), filepath.Join(p.Home, ".local")); err != nil {
			return err
		}
	}
	return nil
}

// replace puts src at dst, removing what dst was.
func replace(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("restore %s: %w", dst, err)
	}
	if err := movetree.Move(src, dst); err != nil {
		return fmt.Errorf("restore %s: %w", dst, err)
	}
	return nil
}

// IsUnder reports whether p is dir or inside it.
func IsUnder(p, dir string) bool {
	p, dir = filepath.Clean(p), filepath.Clean(dir)
	return p == dir || strings.HasPrefix(p, dir+"/")
}
