package pyindex

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/pys2i/pys2i/test/world/deb"
)

// debEntry is one entry of a deb's data archive, kept in memory.
type debEntry struct {
	typ  byte // tar.TypeReg, tar.TypeSymlink, tar.TypeDir, ...
	mode int64
	data []byte
	link string
}

// debFiles is the data archive of a deb: clean path ("usr/lib/...") -> entry.
type debFiles struct {
	name    string
	entries map[string]*debEntry
}

// readDebFiles loads the data archive of a deb; keep(p) selects which
// regular files' contents are read (nil: all). Other entries are kept
// without data.
func readDebFiles(name, debPath string, keep func(p string) bool) (*debFiles, error) {
	d := &debFiles{name: name, entries: map[string]*debEntry{}}
	err := deb.WalkData(debPath, func(h *tar.Header, r io.Reader) error {
		p := deb.CleanName(h.Name)
		if p == "." {
			return nil
		}
		e := &debEntry{typ: h.Typeflag, mode: h.Mode, link: h.Linkname}
		switch h.Typeflag {
		case tar.TypeReg:
			if keep == nil || keep(p) {
				b, err := io.ReadAll(r)
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
				e.data = b
			}
		case tar.TypeLink:
			// Hard links name another entry of the archive.
			if t, ok := d.entries[deb.CleanName(h.Linkname)]; ok && t.typ == tar.TypeReg {
				e.typ, e.data = tar.TypeReg, t.data
			}
		}
		d.entries[p] = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// resolve returns the content of the regular file at p, following
// symlinks (relative or absolute) through d first, then through the
// others (the bundle debs).
func resolve(p string, d *debFiles, others []*debFiles) (data []byte, from string, err error) {
	cur := p
	for hops := 0; hops < 40; hops++ {
		var e *debEntry
		var in *debFiles
		for _, c := range append([]*debFiles{d}, others...) {
			if x, ok := c.entries[cur]; ok {
				e, in = x, c
				break
			}
		}
		if e == nil {
			names := []string{d.name}
			for _, o := range others {
				names = append(names, o.name)
			}
			return nil, "", fmt.Errorf("/%s not found in %s", cur, strings.Join(names, ", "))
		}
		switch e.typ {
		case tar.TypeReg:
			if e.data == nil {
				return nil, "", fmt.Errorf("/%s: content not loaded", cur)
			}
			return e.data, in.name, nil
		case tar.TypeSymlink:
			if strings.HasPrefix(e.link, "/") {
				cur = deb.CleanName(e.link)
			} else {
				cur = deb.CleanName(path.Join(path.Dir(cur), e.link))
			}
		default:
			return nil, "", fmt.Errorf("/%s is not a regular file (tar type %q)", cur, e.typ)
		}
	}
	return nil, "", fmt.Errorf("/%s: too many levels of symbolic links", p)
}
