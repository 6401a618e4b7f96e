package builder

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// compilersScript prints the venv python's sysconfig CC and CXX, a line
// each: the compilers setuptools builds extensions with.
const compilersScript = "import sysconfig as s\nfor k in ('CC', 'CXX'):\n    print(s.get_config_var(k) or '')\n"

// Compilers asks the child environment's python for the C and C++
// compilers setuptools uses ("" for one it has none of).
func (x *Exec) Compilers(ctx context.Context) (cc, cxx string, err error) {
	path, err := LookPath(x.Env, "python")
	if err != nil {
		return "", "", fmt.Errorf("compilers: %w", err)
	}
	cmd := exec.CommandContext(ctx, path, "-c", compilersScript)
	cmd.Env, cmd.Dir = x.Env, x.Dir
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("compilers: %s: %w", path, err)
	}
	return parseCompilers(string(out))
}

// parseCompilers reads compilersScript's output.
func parseCompilers(out string) (cc, cxx string, err error) {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		return "", "", fmt.Errorf("compilers: want 2 lines from python, got %q", out)
	}
	return strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1]), nil
}
