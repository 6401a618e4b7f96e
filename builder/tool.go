package builder

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// PipInstallRetry runs pip install ARGS with the pip at pip; on failure it
// prints warning and retries with --isolated (which ignores PIP_* variables
// and config files), as upstream does for tool installs and the pip upgrade.
func (x *Exec) PipInstallRetry(ctx context.Context, pip, warning string, args ...string) error {
	if err := x.Run(ctx, append([]string{pip, "install"}, args...)...); err == nil {
		return nil
	}
	fmt.Fprintln(x.Stdout, warning)
	return x.Run(ctx, append([]string{pip, "install", "--isolated"}, args...)...)
}

// InstallTool is upstream's install_tool NAME [SUFFIX]: a venv at
// HOME/.local/venvs/NAME made with python, `pip install -U NAME+SUFFIX` in it
// (retried with --isolated), and a link HOME/.local/bin/NAME to it. Like
// upstream's plain `ln -s`, an existing link is an error.
func (x *Exec) InstallTool(ctx context.Context, home, python, name, suffix string) error {
	fmt.Fprintf(x.Stdout, "---> Installing %s packaging tool ...\n", name)
	venv := filepath.Join(home, ".local", "venvs", name)
	if err := x.Run(ctx, python, "-m", "venv", venv); err != nil {
		return err
	}
	warning := fmt.Sprintf("WARNING: Installation of %s failed, trying again from official PyPI with pip --isolated install", name)
	if err := x.PipInstallRetry(ctx, filepath.Join(venv, "bin", "pip"), warning, "-U", name+suffix); err != nil {
		return err
	}
	bin := filepath.Join(home, ".local", "bin")
	if err := os.MkdirAll(bin, 0o777); err != nil {
		fmt.Fprintf(x.Stderr, "mkdir: cannot create directory '%s': %v\n", bin, unwrapPathErr(err))
		return err
	}
	link := filepath.Join(bin, name)
	if err := os.Symlink(filepath.Join(venv, "bin", name), link); err != nil {
		fmt.Fprintf(x.Stderr, "ln: failed to create symbolic link '%s': %v\n", link, unwrapPathErr(err))
		return fmt.Errorf("ln -s %s: %w", link, err)
	}
	return nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}
