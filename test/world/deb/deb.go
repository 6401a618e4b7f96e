// Package deb reads Debian binary packages (.deb) in pure Go: the ar
// container, the control file and the data archive, whatever their
// compression (none, gzip, xz, zstd, bzip2, lzma).
package deb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// SkipAll can be returned by a walk function to stop the walk early
// without an error.
var SkipAll = errors.New("skip remaining entries")

const (
	arMagic     = "!<arch>\n"
	arHeaderLen = 60
)

// ArMember describes one member of an ar archive.
type ArMember struct {
	Name string
	Size int64
	Mode int64
}

// ReadAr calls fn for each member of the ar archive read from r, in order.
// The reader passed to fn yields exactly the member's content; fn need not
// consume it. Both GNU ("name/") and BSD ("#1/len") member names are
// understood; the GNU symbol and long-name tables ("/" and "//") are passed
// through under those names. Returning SkipAll from fn stops the walk.
func ReadAr(r io.Reader, fn func(m ArMember, r io.Reader) error) error {
	br := bufio.NewReader(r)
	magic := make([]byte, len(arMagic))
	if _, err := io.ReadFull(br, magic); err != nil {
		return fmt.Errorf("ar: reading magic: %w", noEOF(err))
	}
	if string(magic) != arMagic {
		return fmt.Errorf("ar: bad magic %q", magic)
	}
	hdr := make([]byte, arHeaderLen)
	for {
		_, err := io.ReadFull(br, hdr)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ar: reading member header: %w", noEOF(err))
		}
		if string(hdr[58:60]) != "`\n" {
			return fmt.Errorf("ar: bad member header terminator %q", hdr[58:60])
		}
		name := strings.TrimRight(string(hdr[0:16]), " ")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("ar: member %q: bad size %q", name, hdr[48:58])
		}
		mode, _ := strconv.ParseInt(strings.TrimSpace(string(hdr[40:48])), 8, 64)
		total := size
		body := io.LimitReader(br, size)
		switch {
		case strings.HasPrefix(name, "#1/"):
			nl, err := strconv.Atoi(name[3:])
			if err != nil || nl < 0 || int64(nl) > size {
				return fmt.Errorf("ar: bad BSD long name %q", name)
			}
			b := make([]byte, nl)
			if _, err := io.ReadFull(body, b); err != nil {
				return fmt.Errorf("ar: reading BSD long name: %w", noEOF(err))
			}
			name = strings.TrimRight(string(b), "\x00")
			size -= int64(nl)
		case name != "/" && name != "//" && strings.HasSuffix(name, "/"):
			name = strings.TrimSuffix(name, "/")
		}
		err = fn(ArMember{Name: name, Size: size, Mode: mode}, body)
		if err == SkipAll {
			return nil
		}
		if err != nil {
			return err
		}
		// Skip what fn did not read, then the padding byte.
		if _, err := io.Copy(io.Discard, body); err != nil {
			return fmt.Errorf("ar: member %q: %w", name, err)
		}
		if total%2 == 1 {
			if _, err := br.Discard(1); err != nil && err != io.EOF {
				return fmt.Errorf("ar: member %q padding: %w", name, err)
			}
		}
	}
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Decompress wraps r according to the compression suffix of a member name
// such as "data.tar.xz". The returned closer must be called when done.
func Decompress(name string, r io.Reader) (io.Reader, func(), error) {
	nop := func() {}
	switch ext := path.Ext(name); ext {
	case ".tar", "":
		return r, nop, nil
	case ".gz":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nop, err
		}
		return zr, func() { zr.Close() }, nil
	case ".xz":
		xr, err := xz.NewReader(bufio.NewReaderSize(r, 1<<16))
		if err != nil {
			return nil, nop, err
		}
		return xr, nop, nil
	case ".lzma":
		lr, err := lzma.NewReader(bufio.NewReaderSize(r, 1<<16))
		if err != nil {
			return nil, nop, err
		}
		return lr, nop, nil
	case ".zst":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, nop, err
		}
		return zr, zr.Close, nil
	case ".bz2":
		return bzip2.NewReader(r), nop, nil
	default:
		return nil, nop, fmt.Errorf("unsupported compression %q", ext)
	}
}

// WalkMember opens the .deb at debPath and calls fn for every tar entry of
// the member whose name starts with prefix ("control.tar" or "data.tar").
// Returning SkipAll from fn stops the walk without error.
func WalkMember(debPath, prefix string, fn func(h *tar.Header, r io.Reader) error) error {
	f, err := os.Open(debPath)
	if err != nil {
		return err
	}
	defer f.Close()
	return walkMember(f, prefix, fn)
}

func walkMember(r io.Reader, prefix string, fn func(h *tar.Header, r io.Reader) error) error {
	found := false
	first := true
	err := ReadAr(r, func(m ArMember, mr io.Reader) error {
		if first {
			first = false
			if m.Name != "debian-binary" {
				return fmt.Errorf("not a Debian package: first member is %q, want debian-binary", m.Name)
			}
			b, err := io.ReadAll(io.LimitReader(mr, 64))
			if err != nil {
				return err
			}
			if !bytes.HasPrefix(b, []byte("2.")) {
				return fmt.Errorf("unsupported Debian package format %q", strings.TrimSpace(string(b)))
			}
			return nil
		}
		if m.Name != prefix && !strings.HasPrefix(m.Name, prefix+".") {
			return nil
		}
		found = true
		dr, closeFn, err := Decompress(m.Name, mr)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		defer closeFn()
		tr := tar.NewReader(dr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return SkipAll
			}
			if err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if err := fn(h, tr); err != nil {
				return err
			}
		}
	})
	if err == SkipAll {
		err = nil
	}
	if err != nil {
		return err
	}
	if first {
		return errors.New("not a Debian package: empty ar archive")
	}
	if !found {
		return fmt.Errorf("no %s member", prefix)
	}
	return nil
}

// WalkData calls fn for every entry of the package's data archive
// (data.tar.*), with its tar header (names as stored, usually "./usr/...")
// and a reader of its content. Returning SkipAll stops the walk.
func WalkData(debPath string, fn func(h *tar.Header, r io.Reader) error) error {
	err := WalkMember(debPath, "data.tar", fn)
	if err == SkipAll {
		err = nil
	}
	return err
}

// WalkControl is WalkData for the control archive (control.tar.*).
func WalkControl(debPath string, fn func(h *tar.Header, r io.Reader) error) error {
	err := WalkMember(debPath, "control.tar", fn)
	if err == SkipAll {
		err = nil
	}
	return err
}

// Control returns the fields of the package's control file (Package,
// Version, Architecture, Depends, ...). Multi-line values (Description)
// keep their continuation lines joined with "\n", leading space removed.
func Control(debPath string) (map[string]string, error) {
	var fields map[string]string
	err := WalkControl(debPath, func(h *tar.Header, r io.Reader) error {
		if CleanName(h.Name) != "control" || h.Typeflag != tar.TypeReg {
			return nil
		}
		var err error
		fields, err = ParseControl(r)
		if err != nil {
			return err
		}
		return SkipAll
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", debPath, err)
	}
	if fields == nil {
		return nil, fmt.Errorf("%s: no control file in control archive", debPath)
	}
	return fields, nil
}

// ParseControl parses the first paragraph of a deb822 control file.
func ParseControl(r io.Reader) (map[string]string, error) {
	fields := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	last := ""
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			if len(fields) > 0 {
				break
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last == "" {
				return nil, fmt.Errorf("control: continuation line without field: %q", line)
			}
			fields[last] += "\n" + line[1:]
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("control: malformed line %q", line)
		}
		last = strings.TrimSpace(k)
		fields[last] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, errors.New("control: no fields")
	}
	return fields, nil
}

// CleanName turns a tar entry name such as "./usr/bin/x" or "usr/lib/" into
// a clean relative path ("usr/bin/x", "usr/lib"); the root is ".".
func CleanName(name string) string {
	n := path.Clean("/" + name)
	if n == "/" {
		return "."
	}
	return n[1:]
}

// UpstreamVersion strips the epoch ("1:"), the Debian revision ("-1+deb12u1")
// and Debian repack suffixes ("+ds", "+dfsg", "+repack", with an optional
// number) from a Debian version: "1:1.24.2-1+deb12u1" -> "1.24.2",
// "2022.12.19+ds-1" -> "2022.12.19".
func UpstreamVersion(v string) string {
	if i := strings.Index(v, ":"); i >= 0 {
		v = v[i+1:]
	}
	if i := strings.LastIndex(v, "-"); i >= 0 {
		v = v[:i]
	}
	for _, suf := range []string{"+ds", "+dfsg", "+repack", "~ds", "~dfsg"} {
		if i := strings.Index(v, suf); i >= 0 {
			v = v[:i]
		}
	}
	return v
}
