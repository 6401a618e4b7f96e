package assemble

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/pys2i/pys2i/internal/movetree"
)

// MoveSource is upstream's `shopt -s dotglob; mv /tmp/src/* "$HOME"`: every
// entry of src, dotfiles included, is moved into dst. An empty or missing src
// fails as the unmatched glob makes mv fail. Entries that cannot be moved
// are reported as mv does and the others still moved; the result is an error
// if any failed. Across file systems (EXDEV) an entry is copied, then removed.
func MoveSource(src, dst string, stderr io.Writer) error {
	ents, err := os.ReadDir(src)
	if err != nil || len(ents) == 0 {
		fmt.Fprintf(stderr, "mv: cannot stat '%s/*': No such file or directory\n", src)
		if err == nil {
			return fmt.Errorf("the source directory %s is empty", src)
		}
		return fmt.Errorf("no source in %s: %w", src, err)
	}
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	sort.Strings(names)
	var failed []string
	for _, n := range names {
		from, to := filepath.Join(src, n), filepath.Join(dst, n)
		if err := movetree.Move(from, to); err != nil {
			if errors.Is(err, syscall.EEXIST) {
				err = syscall.ENOTEMPTY // rename(2) may say either; mv says this
			}
			fmt.Fprintf(stderr, "mv: cannot move '%s' to '%s': %v\n", from, to, errText(err))
			failed = append(failed, n)
		}
	}
	if failed != nil {
		return fmt.Errorf("could not move %d of %d entries of %s into %s", len(failed), len(names), src, dst)
	}
	return nil
}

// errText is the strerror text coreutils prints ("Permission denied").
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := []rune(errno.Error())
		if len(s) > 0 && s[0] >= 'a' && s[0] <= 'z' {
			s[0] -= 'a' - 'A'
		}
		return string(s)
	}
	return err.Error()
}
