package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/pys2i/pys2i/imagebuild/layer"
)

// named is a copied entry: where it is now, and its path in the source.
type named struct {
	copy, inSource string
}

// refuseWhiteouts fails on the first of the copied entries still there
// (.s2iignore may have deleted some): named ".wh.*", it would be read as a
// whiteout in the image layer and delete or hide content, with no word.
func refuseWhiteouts(entries []named) error {
	for _, e := range entries {
		_, err := os.Lstat(e.copy)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("copy source: %w", err)
		}
		return fmt.Errorf("source file %s: a name starting with %q is read as a whiteout in an image layer, "+
			"where it would delete or hide files instead of being one: rename it, or leave it out with --exclude or %s",
			e.inSource, layer.WhiteoutPrefix, IgnoreFile)
	}
	return nil
}

// specialKind names what a special file (not a directory, regular file or
// symlink) is, for the build's warning.
func specialKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "special file"
}
