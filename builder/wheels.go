package builder

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pys2i/pys2i/builder/wheel"
)

// InstallerVar chooses who installs pinned, hashed requirements: "pys2i"
// (the default: builder/wheel, pip for what it cannot do as pip would) or
// "pip" (pip for everything).
const InstallerVar = "PYS2I_INSTALLER"

// installWheels installs what it can of the hashed requirement lines with
// builder/wheel, as `pip <args> -r lines` would, and returns the lines left
// for pip (all of them when PYS2I_INSTALLER=pip).
func installWheels(ctx context.Context, x *Exec, args, lines []string) ([]string, error) {
	if len(lines) == 0 || strings.EqualFold(Getenv(x.Env, InstallerVar), "pip") {
		return lines, nil
	}
	python, err := pipInterpreter(x.Env)
	if err != nil {
		fmt.Fprintf(x.Stdout, "---> pip installs the %d pinned packages: %v\n", len(lines), err)
		return lines, nil
	}
	var reqs []wheel.Req
	var rest []string
	for _, l := range lines {
		r, ok := wheel.SplitLine(l)
		if !ok {
			rest = append(rest, l)
			continue
		}
		reqs = append(reqs, r)
	}
	res, err := wheel.Install(ctx, wheel.Options{Python: python, Env: x.Env, PipArgs: args, Log: x.Stdout}, reqs)
	if err != nil {
		return nil, err
	}
	if len(res.Installed) > 0 {
		fmt.Fprintf(x.Stdout, "---> Installed %d pinned packages without pip (%s=pip to install them with pip)\n", len(res.Installed), InstallerVar)
		fmt.Fprintf(x.Stdout, "Successfully installed %s\n", strings.Join(res.Installed, " "))
	}
	for _, i := range res.ForPip {
		rest = append(rest, reqs[i].Line())
	}
	return rest, nil
}

// pipInterpreter is the interpreter the pip in PATH runs under: its
// shebang (a plain one, or distlib's /bin/sh form for long paths).
func pipInterpreter(env []string) (string, error) {
	pip, err := LookPath(env, "pip")
	if err != nil {
		return "", err
	}
	f, err := os.Open(pip)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var first, second string
	if sc.Scan() {
		first = sc.Text()
	}
	if sc.Scan() {
		second = sc.Text()
	}
	switch {
	case first == "#!/bin/sh" && strings.HasPrefix(second, "'''exec' "):
		exe, _, ok := strings.Cut(strings.TrimPrefix(second, "'''exec' "), ` "$0" "$@"`)
		if ok && !strings.ContainsAny(exe, " \t'\"") {
			return exe, nil
		}
	case strings.HasPrefix(first, "#!/") && !strings.ContainsAny(first[2:], " \t"):
		return first[2:], nil
	}
	return "", fmt.Errorf("%s: cannot read its interpreter from %q", pip, first)
}

// InstallRequirements is `pip install -r file`. When every requirement of
// the file is a name==version line with --hash (pip's hash-checking mode,
// which needs the complete set), builder/wheel installs what it can first;
// pip then runs on the file as before: it finds those installed, installs
// what was left to it and fails where it would have failed (a missing
// dependency, a hash it refuses).
func InstallRequirements(ctx context.Context, x *Exec, file string) error {
	path := file
	if !filepath.IsAbs(path) && x.Dir != "" {
		path = filepath.Join(x.Dir, path)
	}
	if lines, ok := hashedPins(path); ok {
		if _, err := installWheels(ctx, x, []string{"install"}, lines); err != nil {
			return err
		}
	}
	return x.Run(ctx, "pip", "install", "-r", file)
}

// hashedPins reads a requirements file whose every requirement is
// "name==version ... --hash=..." (continuation lines joined, comments
// dropped); ok is false for any other line (an option, a URL, an
// environment variable, a nested file).
func hashedPins(file string) ([]string, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, false
	}
	text := strings.ReplaceAll(string(b), "\\\r\n", " ")
	text = strings.ReplaceAll(text, "\\\n", " ")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if i := strings.Index(l, "#"); i == 0 || (i > 0 && (l[i-1] == ' ' || l[i-1] == '\t')) {
			l = l[:i]
		}
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		r, ok := wheel.SplitLine(l)
		if !ok || len(r.Hashes) == 0 || strings.Contains(l, "${") || !strings.Contains(r.Spec, "==") || strings.ContainsAny(r.Spec, "@/") {
			return nil, false
		}
		lines = append(lines, l)
	}
	return lines, len(lines) > 0
}
