// Package exitcode carries s2i's exit statuses on errors, so the command can
// exit as s2i does while the library just returns errors.
package exitcode

import (
	"errors"
	"fmt"
	"syscall"
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

// Signal is why a run was stopped: a signal asked it to end. A process
// that cleans up and exits on a signal reports 128+N, as a shell shows one
// the signal killed (130 for SIGINT, 143 for SIGTERM).
type Signal struct{ Sig syscall.Signal }

func (s *Signal) Error() string { return "interrupted by signal: " + s.Sig.String() }

// Final is the exit status of a run that ended with err, stopped by cause
// (a context's cause, nil if it was not stopped): 128+N when a signal
// stopped a run that then failed, else Of(err). A run that finished
// despite a late signal did its work: its own status stands.
func Final(err, cause error) int {
	var s *Signal
	if err != nil && errors.As(cause, &s) {
		return 128 + int(s.Sig)
	}
	return Of(err)
}
