// Package copyfile copies a file's bytes into a file the caller creates,
// the one step that the source copy, the script injection, the build's
// extra files and movetree share; each keeps its own rules on modes, owners
// and where the copy may go.
package copyfile

import (
	"io"
	"os"
	"syscall"
)

// Copy opens from (refusing a symlink when noFollow: a file that became
// one since it was listed must not be read through), then calls create for
// the destination, copies and closes it. The source is opened first, so a
// source that cannot be read creates nothing.
func Copy(from string, noFollow bool, create func() (*os.File, error)) error {
	flag := os.O_RDONLY
	if noFollow {
		flag |= syscall.O_NOFOLLOW
	}
	in, err := os.OpenFile(from, flag, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := create()
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
