package commit

import (
	"archive/tar"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Layer is an uncompressed tar layer in a file.
type Layer struct {
	Path   string
	DiffID digest.Digest // sha256 of the tar: also its blob digest, uncompressed
	Size   int64
	// Entries counts the tar's entries (Split's layers only).
	Entries int
	// Stored, when set, is the layer as a registry holds it (compressed,
	// under its own digest), and Path holds those bytes: a reused layer
	// is listed so, and found where it is rather than sent again.
	Stored *v1.Descriptor
}

// SplitOptions say how a container's changes are split.
type SplitOptions struct {
	// Home is the directory (absolute, in the image) whose content, and
	// itself, go to the second layer; everything else to the first.
	Home string
	// Drop reports whether an entry (rel: slash-separated, no leading "/")
	// is left out of both layers.
	Drop func(rel string) bool
	// Capture is the path (absolute, in the image) of one regular file whose
	// content is returned, at most MaxCapture bytes; "" for none.
	Capture string
	// Clamp, when not zero, caps every modification time (SOURCE_DATE_EPOCH);
	// headers are normalized either way (see normalize).
	Clamp time.Time
	// SkipDirs are directories (rel, as Drop's) left out of the outside
	// layer when they are only directories: an overlay copies up the
	// parents of every changed path, with nothing changed but their mtime.
	SkipDirs map[string]bool
	// Whiteout, if set, is called with each whiteout entry kept (rel of
	// the ".wh." entry itself); an error stops Split. The tar can't tell a
	// deletion from a file that was given such a name: the caller can.
	Whiteout func(rel string) error
}

// MaxCapture bounds the captured file: image_metadata.json has a 10 KB label budget.
const MaxCapture = 1 << 20

// Split reads a layer tar (whiteouts included) and writes it as two layers
// in dir: what is outside opt.Home, then opt.Home and its content. Entries
// keep their order; their headers are normalized (see normalize).
func Split(r io.Reader, dir string, opt SplitOptions) (outside, home Layer, captured []byte, err error) {
	homeRel := strings.Trim(path.Clean(opt.Home), "/")
	captureRel := strings.Trim(path.Clean(opt.Capture), "/")
	out, err := newLayerFile(filepath.Join(dir, "outside.tar"))
	if err != nil {
		return Layer{}, Layer{}, nil, err
	}
	defer out.abort()
	hm, err := newLayerFile(filepath.Join(dir, "home.tar"))
	if err != nil {
		return Layer{}, Layer{}, nil, err
	}
	defer hm.abort()

	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Layer{}, Layer{}, nil, fmt.Errorf("read container changes: %w", err)
		}
		hdr, keep := normalize(hdr, opt.Clamp)
		if !keep {
			continue
		}
		rel := strings.Trim(path.Clean("/"+hdr.Name), "/")
		if rel == "" {
			continue // the root itself: the base's stays
		}
		// A whiteout is about the path it hides: it goes where that path is.
		target := rel
		if base := path.Base(rel); strings.HasPrefix(base, ".wh.") && base != ".wh..wh..opq" {
			target = path.Join(path.Dir(rel), strings.TrimPrefix(base, ".wh."))
		} else if base == ".wh..wh..opq" {
			target = path.Dir(rel)
		}
		if opt.Drop != nil && opt.Drop(target) {
			continue
		}
		if target != rel && opt.Whiteout != nil {
			if err := opt.Whiteout(rel); err != nil {
				return Layer{}, Layer{}, nil, err
			}
		}
		if captureRel != "" && rel == captureRel && hdr.Typeflag == tar.TypeReg {
			if captured, err = io.ReadAll(io.LimitReader(tr, MaxCapture+1)); err != nil {
				return Layer{}, Layer{}, nil, fmt.Errorf("read %s: %w", opt.Capture, err)
			}
			if len(captured) > MaxCapture {
				return Layer{}, Layer{}, nil, fmt.Errorf("%s is larger than %d bytes", opt.Capture, MaxCapture)
			}
			if err := out.add(hdr, strings.NewReader(string(captured))); err != nil {
				return Layer{}, Layer{}, nil, err
			}
			continue
		}
		if hdr.Typeflag == tar.TypeDir && opt.SkipDirs[rel] {
			continue
		}
		dst := out
		if homeRel != "" && (target == homeRel || strings.HasPrefix(target, homeRel+"/")) {
			dst = hm
		}
		if err := dst.add(hdr, tr); err != nil {
			return Layer{}, Layer{}, nil, err
		}
	}
	if outside, err = out.finish(); err != nil {
		return Layer{}, Layer{}, nil, err
	}
	if home, err = hm.finish(); err != nil {
		return Layer{}, Layer{}, nil, err
	}
	return outside, home, captured, nil
}

// layerFile is a tar being written to a file, digested on the way.
type layerFile struct {
	f  *os.File
	h  hash.Hash
	cw *countWriter
	tw *tar.Writer
	// entries written
	entries int
	done    bool
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newLayerFile(p string) (*layerFile, error) {
	f, err := os.Create(p)
	if err != nil {
		return nil, fmt.Errorf("create layer: %w", err)
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	return &layerFile{f: f, h: h, cw: cw, tw: tar.NewWriter(cw)}, nil
}

func (l *layerFile) add(hdr *tar.Header, r io.Reader) error {
	l.entries++
	if err := l.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write layer %s: %s: %w", l.f.Name(), hdr.Name, err)
	}
	if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA {
		if _, err := io.Copy(l.tw, r); err != nil {
			return fmt.Errorf("write layer %s: %s: %w", l.f.Name(), hdr.Name, err)
		}
	}
	return nil
}

// finish completes the tar and returns the layer.
func (l *layerFile) finish() (Layer, error) {
	l.done = true
	err := l.tw.Close()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Layer{}, fmt.Errorf("write layer %s: %w", l.f.Name(), err)
	}
	return Layer{Path: l.f.Name(), DiffID: digest.NewDigest(digest.SHA256, l.h), Size: l.cw.n, Entries: l.entries}, nil
}

// abort closes the file if finish was not reached; the caller removes dir.
func (l *layerFile) abort() {
	if !l.done {
		l.f.Close()
	}
}
