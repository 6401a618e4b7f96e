package builder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"

	"github.com/pys2i/pys2i/internal/envlist"
	"github.com/pys2i/pys2i/internal/execpath"
	"github.com/pys2i/pys2i/internal/redact"
)

// Exec runs the build's child processes: with the activated environment,
// output straight through (line by line, credentials masked).
type Exec struct {
	Env    []string // the complete environment of every child
	Dir    string   // working directory; "" is the current one
	Stdout io.Writer
	Stderr io.Writer
}

// CmdError is a child that failed; Code is its exit status as a shell
// reports it (127 when the program is missing).
type CmdError struct {
	Args []string
	Code int
	Err  error
}

func (e *CmdError) Error() string {
	cmd := redact.URL(strings.Join(e.Args, " "))
	switch e.Code {
	case 127:
		return fmt.Sprintf("%s: command not found", cmd)
	case 126:
		return fmt.Sprintf("%s: cannot execute: %v", cmd, e.Err)
	}
	return fmt.Sprintf("%s exited with status %d", cmd, e.Code)
}

// ExitCode is the status assemble exits with after this failure.
func (e *CmdError) ExitCode() int { return e.Code }

// Getenv reads a variable from the child environment (envlist.Get: the last
// value wins).
func Getenv(env []string, key string) string { return envlist.Get(env, key) }

// LookPath finds name in the PATH of env (not the caller's); a name with a
// slash must itself be an executable.
func LookPath(env []string, name string) (string, error) {
	if strings.Contains(name, "/") {
		if isExec(name) {
			return name, nil
		}
		return "", fmt.Errorf("%s: not found", name)
	}
	if p, ok := execpath.Find(name, env, ""); ok {
		return p, nil
	}
	return "", fmt.Errorf("%s: not found in PATH", name)
}

// Run runs args[0] (looked up in the child PATH) with the rest as arguments.
func (x *Exec) Run(ctx context.Context, args ...string) error {
	return x.RunIn(ctx, x.Dir, x.Env, args...)
}

// RunIn is Run with another directory and environment.
func (x *Exec) RunIn(ctx context.Context, dir string, env []string, args ...string) error {
	path, err := LookPath(env, args[0])
	if err != nil {
		fmt.Fprintf(x.Stderr, "%s: command not found\n", args[0])
		return &CmdError{Args: args, Code: 127, Err: err}
	}
	cmd := exec.CommandContext(ctx, path, args[1:]...)
	cmd.Args[0] = args[0]
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdout, cmd.Stderr = x.Stdout, x.Stderr
	cmd.Stdin = nil
	err = cmd.Run()
	if err == nil {
		return nil
	}
	code := 1
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		// It could not start (a script whose interpreter is gone...): bash
		// says "bad interpreter" and exits 126.
		fmt.Fprintf(x.Stderr, "%s: %v\n", path, err)
		return &CmdError{Args: args, Code: 126, Err: err}
	}
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	}
	return &CmdError{Args: args, Code: code, Err: err}
}

// ExitCode is the status a failed step makes assemble exit with.
func ExitCode(err error) int {
	var e interface{ ExitCode() int }
	if errors.As(err, &e) && e.ExitCode() > 0 {
		return e.ExitCode()
	}
	return 1
}
