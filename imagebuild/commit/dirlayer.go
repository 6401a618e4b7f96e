package commit

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/pys2i/pys2i/imagebuild/layer"
)

// DirPart is one tree of a layer made from directories.
type DirPart struct {
	// Host is the tree's root on the host: a directory, a file or a
	// symlink (kept as a link, never followed).
	Host string
	// Name is its path in the layer (absolute or not; "/" is refused).
	Name string
	// Exclude reports whether rel (slash-separated, relative to Host) is
	// left out; nil leaves out nothing.
	Exclude func(rel string, isDir bool) bool
	// OmitDir reports whether a directory's own entry (rel, "" for Host)
	// is left out while its content is written; nil omits none.
	OmitDir func(rel string) bool
}

// DirLayer writes one uncompressed layer at file: the directories in
// parents first (root-owned, 0755: they are missing in the base), then
// each part with its owners, modes, links and symlinks as they are on the
// host. Timestamps are capped at clamp when it is not zero.
func DirLayer(file string, parents []string, parts []DirPart, clamp time.Time) (Layer, error) {
	lf, err := newLayerFile(file)
	if err != nil {
		return Layer{}, err
	}
	defer lf.abort()
	mtime := time.Unix(0, 0).UTC()
	if !clamp.IsZero() {
		mtime = clamp
	}
	for _, d := range parents {
		name := strings.Trim(path.Clean(d), "/")
		if name == "" {
			continue
		}
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}
		if err := lf.add(hdr, nil); err != nil {
			return Layer{}, err
		}
	}
	for _, p := range parts {
		if err := addPart(lf, p, clamp); err != nil {
			return Layer{}, err
		}
	}
	return lf.finish()
}

func addPart(lf *layerFile, p DirPart, clamp time.Time) error {
	name := strings.Trim(path.Clean("/"+p.Name), "/")
	if name == "" {
		return errors.New("layer: a tree cannot be written at /")
	}
	fi, err := os.Lstat(p.Host)
	if err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	if !fi.IsDir() {
		return addOne(lf, p.Host, name, fi, clamp)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := layer.WriteDir(pw, p.Host, layer.Options{Prefix: name, Exclude: p.Exclude, OmitDir: p.OmitDir, Clamp: clamp})
		pw.CloseWithError(err)
		done <- err
	}()
	tr := tar.NewReader(pr)
	var copyErr error
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			copyErr = fmt.Errorf("layer of %s: %w", p.Host, err)
			break
		}
		if err := lf.add(hdr, tr); err != nil {
			copyErr = err
			break
		}
	}
	pr.CloseWithError(errors.New("layer: stopped reading"))
	// The writer's own error first: what the reader got is that error
	// through the pipe. It names the entry (as in the image, for a refused
	// name; by its host path, for an I/O error).
	if werr := <-done; werr != nil {
		return werr
	}
	return copyErr
}

// addOne writes a single file or symlink entry.
func addOne(lf *layerFile, host, name string, fi fs.FileInfo, clamp time.Time) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("layer: %s: no stat data", host)
	}
	var link string
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		l, err := os.Readlink(host)
		if err != nil {
			return fmt.Errorf("layer: %w", err)
		}
		link = l
	case fi.Mode().IsRegular():
	default:
		return fmt.Errorf("layer: %s is not a regular file, directory or symlink", host)
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("layer: %s: %w", host, err)
	}
	hdr.Name, hdr.Format = name, tar.FormatPAX
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = int(st.Uid), int(st.Gid), "", ""
	hdr.ModTime = fi.ModTime().Truncate(time.Second)
	if !clamp.IsZero() && hdr.ModTime.After(clamp) {
		hdr.ModTime = clamp
	}
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	if !fi.Mode().IsRegular() {
		return lf.add(hdr, nil)
	}
	f, err := os.OpenFile(host, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	defer f.Close()
	return lf.add(hdr, io.LimitReader(f, hdr.Size))
}
