// Package reap waits as a PID 1 (or a subreaper) must: for every child,
// since orphans are re-parented to it, until one given child exits. Both
// the build's sandbox init and the images' init wrapper are such a parent.
package reap

import (
	"errors"
	"syscall"
)

// Until reaps children until pid exits and returns its status as shells
// report it: the exit code, or 128+N for a death by signal N.
func Until(pid int) (int, error) {
	for {
		var ws syscall.WaitStatus
		wpid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if wpid != pid {
			continue // an orphan, reaped
		}
		if ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ws.ExitStatus(), nil
	}
}
