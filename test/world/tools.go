package world

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pys2i/pys2i/test/world/pyindex"
)

// DebianPython makes the tools venv: Debian's own interpreter, not the
// host's pyenv one, so the tools run the Python of the images' base.
const DebianPython = "/usr/bin/python3"

// toolsDone is written last in the tools venv and names the path it was
// made at: a venv's scripts hold absolute paths, so a copied world (another
// root) makes its own.
const toolsDone = ".complete"

// toolsVenv makes the venv of host-side tools (the recipe's Tools: lock
// tools pipenv, poetry and uv; the SBOM validators spdx-tools and
// cyclonedx-python-lib) from the index's own files, offline. Unlike the
// other parts it is built in place, not renamed, for the paths its scripts
// hold.
func (b *Builder) toolsVenv(ctx context.Context, dir, index string) error {
	if got, err := os.ReadFile(filepath.Join(dir, toolsDone)); err == nil && string(got) == dir+"\n" {
		fmt.Fprintf(b.Log, "world: tools venv cached (%s)\n", filepath.Base(dir))
		return nil
	}
	return b.step("tools venv", func() error {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		ok := false
		defer func() {
			if !ok {
				os.RemoveAll(dir)
			}
		}()
		home, err := os.MkdirTemp(b.Root, ".tmp-tools-home-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(home)
		links, err := pyindex.ProjectDirs(index)
		if err != nil {
			return err
		}
		// Nothing of the host's pip configuration: only the index's files.
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + home, "LC_ALL=C.UTF-8", "PIP_CONFIG_FILE=/dev/null"}
		if err := run(ctx, env, DebianPython, "-m", "venv", dir); err != nil {
			return err
		}
		python := filepath.Join(dir, "bin", "python")
		if err := run(ctx, env, python, ToolsInstallArgs(links, b.Recipe.Tools)...); err != nil {
			return err
		}
		for _, t := range b.Recipe.Tools {
			if err := checkTool(ctx, env, dir, t); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(dir, toolsDone), []byte(dir+"\n"), 0o644); err != nil {
			return err
		}
		ok = true
		return nil
	})
}

// checkTool proves t installed in the venv dir: its script is in bin/, or
// the venv's python imports its module (isolated: no site of the user's,
// no PYTHON* variables).
func checkTool(ctx context.Context, env []string, dir string, t Tool) error {
	if t.Bin != "" {
		if _, err := os.Stat(filepath.Join(dir, "bin", t.Bin)); err != nil {
			return fmt.Errorf("tools venv has no bin/%s (%s)", t.Bin, t.Require)
		}
		return nil
	}
	if err := run(ctx, env, filepath.Join(dir, "bin", "python"), "-I", "-c", "import "+t.Import); err != nil {
		return fmt.Errorf("tools venv cannot import %s (%s): %w", t.Import, t.Require, err)
	}
	return nil
}

// ToolsInstallArgs is the pip command line that installs tools from the
// index's project folders only.
func ToolsInstallArgs(findLinks []string, tools []Tool) []string {
	args := []string{"-m", "pip", "install", "--no-index", "--no-cache-dir", "--disable-pip-version-check", "--quiet"}
	for _, d := range findLinks {
		args = append(args, "--find-links", d)
	}
	for _, t := range tools {
		args = append(args, t.Require)
	}
	return args
}

func run(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		short := args
		if len(short) > 4 {
			short = short[:4]
		}
		return fmt.Errorf("%s %s ...: %v: %s", name, strings.Join(short, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
