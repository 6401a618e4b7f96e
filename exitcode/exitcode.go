// Package exitcode carries s2i's exit statuses on errors, so the command can
// exit as s2i does while the library just returns errors.
package exitcode

import (
	"errors"
	"fmt"
)

// s2i's codes (pkg/errors) that pys2i reproduces; anything else exits 1.
const (
	Generic            = 1
	InstallRequired    = 11 // a required script (assemble, run) was not found
	URLHandler         = 12 // a scripts URL with an unsupported scheme
	UserNotAllowed     = 15 // --allowed-uids refused the assemble user
	EmptyGitRepository = 16 // a git source with no commits
)

// Error is an error with the status the process should exit with.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// New returns an error that exits with code.
func New(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Of returns the exit status for err: 0 for nil, the code of the first
// *Error in its chain, else 1.
func Of(err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Generic
}
