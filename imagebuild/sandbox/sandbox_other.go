//go:build !linux

package sandbox

import (
	"errors"
	"os"
)

// errUnsupported: namespaces, overlay and pivot_root are Linux features.
var errUnsupported = errors.New("sandbox: only supported on Linux")

// Init does nothing outside Linux; it exists so that callers build everywhere.
func Init() {}

// Start always fails outside Linux.
func Start(spec Spec) (*Process, error) { return nil, errUnsupported }

// Signal always fails outside Linux (no Process can exist there).
func (p *Process) Signal(sig os.Signal) error { return errUnsupported }
