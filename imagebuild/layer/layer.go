// Package layer writes directory trees as OCI layer tarballs: a whole tree, or
// the difference between two trees (with whiteouts), with sorted entries,
// numeric owners and no device files, so the same tree gives the same bytes.
package layer

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options tune what goes into a layer.
type Options struct {
	// Exclude reports whether rel (slash-separated, relative to the root, no
	// leading "./") is left out; a left-out directory is left out whole.
	Exclude func(rel string, isDir bool) bool
	// Clamp, when non-zero, caps every timestamp at this time (SOURCE_DATE_EPOCH).
	Clamp time.Time
	// OmitDir reports whether the entry of the directory rel ("" for the
	// root) is left out while its content is still walked: for a layer
	// laid on a tree that has the directory already. nil omits none.
	OmitDir func(rel string) bool
	// Owner, when set, maps an entry's owner to the one the layer records
	// (a build that ran as another uid than the image's user).
	Owner func(uid, gid int) (int, int)
	// Prefix places the tree under this directory of the layer (e.g.
	// "usr/local/go") with an entry for that directory itself; the
	// prefix's own parents are not written.
	Prefix string
}

// WhiteoutPrefix starts the name of a whiteout entry in a layer tar: ".wh.x"
// deletes x from the layers below, ".wh..wh..opq" hides a directory's
// content (the OCI image spec, from AUFS).
const WhiteoutPrefix = ".wh."

// IsWhiteout reports whether a file named base would be read as a whiteout
// in a layer tar, whatever its type.
func IsWhiteout(base string) bool {
	return strings.HasPrefix(base, WhiteoutPrefix)
}

// WriteDir writes the tree at root to w as an uncompressed tar layer. A file
// named like a whiteout is an error (see walk).
func WriteDir(w io.Writer, root string, opt Options) error {
	lw := newWriter(w, opt)
	if opt.Prefix != "" && !opt.omitDir("") {
		fi, err := os.Stat(root)
		if err != nil {
			return fmt.Errorf("layer: %w", err)
		}
		if err := lw.entry(root, "", fi); err != nil {
			return err
		}
	}
	if err := lw.walk(root, "", nil); err != nil {
		return err
	}
	return lw.close()
}

// WriteDiff writes what a container changed going from lower to upper: new
// and changed entries of upper, and a whiteout for each lower entry that upper
// lacks. Regular files whose metadata match are compared by content.
func WriteDiff(w io.Writer, lower, upper string, opt Options) error {
	lw := newWriter(w, opt)
	if err := lw.walk(upper, "", dirLower(lower)); err != nil {
		return err
	}
	return lw.close()
}

type writer struct {
	tw    *tar.Writer
	opt   Options
	links map[[2]uint64]string // (dev, inode) of an emitted file -> its name
	// list, when set, receives each entry's name instead of the tar.
	list func(name string)
}

func newWriter(w io.Writer, opt Options) *writer {
	return &writer{tw: tar.NewWriter(w), opt: opt, links: map[[2]uint64]string{}}
}

func (lw *writer) close() error {
	if err := lw.tw.Close(); err != nil {
		return fmt.Errorf("finish layer: %w", err)
	}
	return nil
}

// walk emits the children of root/rel in name order. With lower set, only
// what differs from lower at rel is emitted, plus whiteouts.
func (lw *writer) walk(root, rel string, lower lowerTree) error {
	dir := filepath.Join(root, filepath.FromSlash(rel))
	names, err := readNames(dir)
	if err != nil {
		return err
	}
	var lowerNames []string
	if lower != nil {
		lowerNames, err = lower.names(rel)
		if err != nil {
			return err
		}
	}
	// Merge both listings so whiteouts sit in name order among the entries.
	all := mergeNames(names, lowerNames)
	inUpper := make(map[string]bool, len(names))
	for _, n := range names {
		inUpper[n] = true
	}
	for _, name := range all {
		childRel := path.Join(rel, name)
		if !inUpper[name] {
			if lw.opt.Exclude != nil && lw.opt.Exclude(childRel, false) {
				continue
			}
			if err := lw.whiteout(path.Join(rel, ".wh."+name)); err != nil {
				return err
			}
			continue
		}
		full := filepath.Join(root, filepath.FromSlash(childRel))
		fi, err := os.Lstat(full)
		if err != nil {
			return fmt.Errorf("layer: %w", err)
		}
		if lw.opt.Exclude != nil && lw.opt.Exclude(childRel, fi.IsDir()) {
			continue
		}
		if IsWhiteout(name) {
			// Written as it is, the entry would delete or hide content of
			// the layers below instead of being a file of this one.
			return fmt.Errorf("layer: %s: a name starting with %q is read as a whiteout in an image layer, "+
				"where it would delete or hide files instead of being one: rename it", path.Join(lw.opt.Prefix, childRel), WhiteoutPrefix)
		}
		var lowerIsDir, inLower bool
		emit := !fi.IsDir() || !lw.opt.omitDir(childRel)
		if lower != nil {
			var same bool
			same, inLower, lowerIsDir, err = lower.same(childRel, full, fi)
			if err != nil {
				return err
			}
			emit = emit && !same
		}
		if emit {
			if err := lw.entry(full, childRel, fi); err != nil {
				return err
			}
		}
		if fi.IsDir() {
			sub := lower
			if !inLower || !lowerIsDir {
				// New, or a file replaced by a directory: all of it is new.
				sub = nil
			}
			if err := lw.walk(root, childRel, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	sort.Strings(names)
	return names, nil
}

func mergeNames(a, b []string) []string {
	seen := make(map[string]bool, len(a)+len(b))
	var out []string
	for _, l := range [][]string{a, b} {
		for _, n := range l {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// lowerTree is what a diff is taken against: a directory (dirLower) or a
// record of one as it was (Snapshot).
type lowerTree interface {
	// names lists rel's children, sorted; none when rel is absent or not
	// a directory.
	names(rel string) ([]string, error)
	// same reports whether the entry at rel (full, fi: as it is now) is
	// unchanged, whether rel was there, and whether it was a directory.
	same(rel, full string, fi fs.FileInfo) (same, there, dir bool, err error)
}

// dirLower is a directory on disk; regular files whose metadata match are
// compared by content.
type dirLower string

func (d dirLower) names(rel string) ([]string, error) {
	names, err := readNames(filepath.Join(string(d), filepath.FromSlash(rel)))
	if err != nil && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
		return nil, nil
	}
	return names, err
}

func (d dirLower) same(rel, full string, fi fs.FileInfo) (bool, bool, bool, error) {
	lowerFull := filepath.Join(string(d), filepath.FromSlash(rel))
	lfi, err := os.Lstat(lowerFull)
	if err != nil {
		return false, false, false, nil
	}
	same, err := sameEntry(full, fi, lowerFull, lfi)
	return same, true, lfi.IsDir(), err
}

func (lw *writer) whiteout(name string) error {
	if lw.list != nil {
		lw.list(path.Join(lw.opt.Prefix, name))
		return nil
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: path.Join(lw.opt.Prefix, name), Mode: 0o644, Format: tar.FormatPAX}
	hdr.ModTime = lw.clamp(time.Unix(0, 0))
	if err := lw.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("layer: whiteout %s: %w", name, err)
	}
	return nil
}

func (o Options) omitDir(rel string) bool { return o.OmitDir != nil && o.OmitDir(rel) }

func (lw *writer) clamp(t time.Time) time.Time {
	if !lw.opt.Clamp.IsZero() && t.After(lw.opt.Clamp) {
		return lw.opt.Clamp
	}
	return t
}

func (lw *writer) entry(full, rel string, fi fs.FileInfo) error {
	if lw.list != nil {
		lw.list(path.Join(lw.opt.Prefix, rel))
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("layer: %s: no stat data", full)
	}
	mode := fi.Mode()
	if mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeSocket|fs.ModeIrregular) != 0 {
		return nil // device nodes and sockets never belong in an image layer
	}
	var link string
	if mode&fs.ModeSymlink != 0 {
		l, err := os.Readlink(full)
		if err != nil {
			return fmt.Errorf("layer: %w", err)
		}
		link = l
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("layer: %s: %w", full, err)
	}
	hdr.Name = path.Join(lw.opt.Prefix, rel)
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Format = tar.FormatPAX
	hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
	if lw.opt.Owner != nil {
		hdr.Uid, hdr.Gid = lw.opt.Owner(hdr.Uid, hdr.Gid)
	}
	hdr.Uname, hdr.Gname = "", ""
	hdr.ModTime = lw.clamp(fi.ModTime().Truncate(time.Second))
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	if caps, err := getxattr(full, "security.capability"); err != nil {
		return err
	} else if caps != nil {
		hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": string(caps)}
	}
	if mode.IsRegular() && st.Nlink > 1 {
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if first, ok := lw.links[key]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			return lw.writeHeader(hdr)
		}
		lw.links[key] = hdr.Name
	}
	if err := lw.writeHeader(hdr); err != nil {
		return err
	}
	if !mode.IsRegular() {
		return nil
	}
	f, err := os.Open(full)
	if err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	defer f.Close()
	if _, err := io.CopyN(lw.tw, f, hdr.Size); err != nil {
		return fmt.Errorf("layer: copy %s: %w", full, err)
	}
	return nil
}

func (lw *writer) writeHeader(hdr *tar.Header) error {
	if err := lw.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("layer: header %s: %w", hdr.Name, err)
	}
	return nil
}

func getxattr(p, name string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, name, buf)
	if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("layer: xattr %s of %s: %w", name, p, err)
	}
	return buf[:n], nil
}

// sameEntry reports whether an upper entry equals its lower counterpart, so
// the diff can leave it out.
func sameEntry(upper string, u fs.FileInfo, lower string, l fs.FileInfo) (bool, error) {
	us, ls := u.Sys().(*syscall.Stat_t), l.Sys().(*syscall.Stat_t)
	if u.Mode() != l.Mode() || us.Uid != ls.Uid || us.Gid != ls.Gid {
		return false, nil
	}
	if !u.IsDir() && !u.ModTime().Equal(l.ModTime()) {
		return false, nil
	}
	switch {
	case u.Mode()&fs.ModeSymlink != 0:
		a, err1 := os.Readlink(upper)
		b, err2 := os.Readlink(lower)
		return err1 == nil && err2 == nil && a == b, nil
	case u.Mode().IsRegular():
		if u.Size() != l.Size() {
			return false, nil
		}
		return SameContent(upper, lower)
	case u.IsDir():
		// A directory's own entry matters only for its metadata; its children
		// are compared one by one.
		return u.ModTime().Equal(l.ModTime()), nil
	}
	return true, nil
}

// SameContent reports whether the files a and b hold the same bytes.
func SameContent(a, b string) (bool, error) {
	fa, err := os.Open(a)
	if err != nil {
		return false, fmt.Errorf("layer: %w", err)
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return false, fmt.Errorf("layer: %w", err)
	}
	defer fb.Close()
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(fa, ba)
		nb, eb := io.ReadFull(fb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == io.EOF || eb == io.ErrUnexpectedEOF, nil
		}
		if ea != nil {
			return false, fmt.Errorf("layer: read %s: %w", a, ea)
		}
		if eb != nil {
			return false, fmt.Errorf("layer: read %s: %w", b, eb)
		}
	}
}

// ExcludeDev leaves out the contents of /dev (a runtime mounts its own).
func ExcludeDev(rel string, isDir bool) bool {
	return strings.HasPrefix(rel, "dev/")
}
