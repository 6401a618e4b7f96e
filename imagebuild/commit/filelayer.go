package commit

import (
	"archive/tar"
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"
)

// File is one generated file of a FileLayer.
type File struct {
	Name string // its path in the image
	Data []byte
}

// FileLayer writes one uncompressed layer at file holding generated files:
// the directories dirs first (root, 0755; the ones the layer adds, parents
// first), then the files (root, 0644), every entry at mtime. The same
// input gives the same bytes.
func FileLayer(file string, dirs []string, files []File, mtime time.Time) (Layer, error) {
	lf, err := newLayerFile(file)
	if err != nil {
		return Layer{}, err
	}
	defer lf.abort()
	mtime = mtime.UTC().Truncate(time.Second)
	for _, d := range dirs {
		name := strings.Trim(path.Clean("/"+d), "/")
		if name == "" {
			return Layer{}, fmt.Errorf("layer: %q is not a directory to add", d)
		}
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}
		if err := lf.add(hdr, nil); err != nil {
			return Layer{}, err
		}
	}
	for _, f := range files {
		name := strings.Trim(path.Clean("/"+f.Name), "/")
		if name == "" {
			return Layer{}, fmt.Errorf("layer: %q is not a file name", f.Name)
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(f.Data)), ModTime: mtime, Format: tar.FormatPAX}
		if err := lf.add(hdr, bytes.NewReader(f.Data)); err != nil {
			return Layer{}, err
		}
	}
	return lf.finish()
}
