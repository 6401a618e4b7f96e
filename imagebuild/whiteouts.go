package imagebuild

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/pys2i/pys2i/imagebuild/layer"
)

// namedLikeWhiteouts returns commit.SplitOptions.Whiteout for a container
// mounted at root. The storage driver writes each deletion (and each opaque
// directory) as a ".wh." entry, which the mounted root does not show; a file
// that a script named ".wh.x" is there too, as an entry of the same name, and
// the image would read it as a whiteout: deleting x, with no word. So an
// entry that the mounted root shows fails the build, named.
func namedLikeWhiteouts(root, script string) func(rel string) error {
	return func(rel string) error {
		// The parent is resolved inside root; the entry itself is not
		// followed (it may be a symlink).
		dir, err := securejoin.SecureJoin(root, path.Dir(rel))
		if err != nil {
			return fmt.Errorf("check /%s: %w", rel, err)
		}
		_, err = os.Lstat(filepath.Join(dir, path.Base(rel)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil // a real whiteout
		}
		if err != nil {
			return fmt.Errorf("check /%s: %w", rel, err)
		}
		return fmt.Errorf("%s created /%s: a name starting with %q is read as a whiteout in an image layer, "+
			"where it would delete or hide files instead of being one: rename it", script, rel, layer.WhiteoutPrefix)
	}
}
