package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/pys2i/pys2i/internal/envlist"
	"github.com/pys2i/pys2i/internal/execpath"
	"github.com/pys2i/pys2i/run"
)

// Execute carries out a plan: prints its messages, runs its steps, then
// replaces the process with the chosen program (syscall.Exec: no extra
// process stays behind), or, when the plan asks for the init wrapper,
// starts it as a child and supervises it (see Supervise). It returns only
// when the plan ends in an exit, a step failed, the exec failed, or the
// supervised child ended: the status to exit with.
func Execute(p run.Plan, stdout, stderr io.Writer) int {
	for _, s := range p.Steps {
		if s.Cmd == nil {
			w := stdout
			if s.Stream == run.Stderr {
				w = stderr
			}
			fmt.Fprintln(w, s.Text)
			continue
		}
		if code := runStep(s.Cmd, stdout, stderr); code != 0 {
			return code
		}
	}
	if p.Exec == nil {
		return p.Exit
	}
	// One entry per name: the child's getenv then sees the PATH LookPath used.
	env := envlist.Merge(p.Exec.Env)
	path, err := LookPath(p.Exec.Argv[0], env, p.Exec.Dir)
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 127
	}
	if err := os.Chdir(p.Exec.Dir); err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 1
	}
	if p.InitWrapper {
		return Supervise(path, p.Exec.Argv, env)
	}
	err = syscall.Exec(path, p.Exec.Argv, env)
	fmt.Fprintf(stderr, "run: exec %s: %v\n", p.Exec.Argv[0], err)
	if errors.Is(err, syscall.ENOENT) {
		return 127
	}
	return 126
}

// runStep runs a step's command with the process's stdio; the result is
// its status, 128+N when killed by signal N.
func runStep(c *run.Command, stdout, stderr io.Writer) int {
	path, err := LookPath(c.Argv[0], c.Env, c.Dir)
	if err != nil {
		fmt.Fprintf(stderr, "run: %v\n", err)
		return 127
	}
	cmd := &exec.Cmd{Path: path, Args: c.Argv, Env: c.Env, Dir: c.Dir, Stdin: os.Stdin, Stdout: stdout, Stderr: stderr}
	err = cmd.Run()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	fmt.Fprintf(stderr, "run: %s: %v\n", strings.Join(c.Argv, " "), err)
	return 126
}

// LookPath resolves file as a shell would: as is when it has a slash (against
// dir when relative), else against the PATH in env (not the process's).
func LookPath(file string, env []string, dir string) (string, error) {
	if p, ok := execpath.Find(file, env, dir); ok {
		return p, nil
	}
	return "", fmt.Errorf("%s: command not found", file)
}

// SetupPyName is upstream's `python SETUP_PY --name`, run in dir with env;
// its stderr goes to ours, its stdout is the name.
func SetupPyName(setupPy, dir string, env []string) (string, error) {
	path, err := LookPath("python", env, dir)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	cmd := &exec.Cmd{Path: path, Args: []string{"python", setupPy, "--name"}, Env: env, Dir: dir, Stdout: &out, Stderr: os.Stderr}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("python %s --name: %w", setupPy, err)
	}
	return strings.TrimRight(out.String(), "\n"), nil
}
