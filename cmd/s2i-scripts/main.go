// Command s2i-scripts is the in-image program of the pys2i builder images: one
// static binary installed as /usr/libexec/s2i/{assemble,run,usage,save-artifacts}
// and /usr/bin/fix-permissions. It dispatches on the name it was started
// under, or on its first argument (s2i-scripts assemble ...).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pys2i/pys2i/assemble/buildpaths"
)

// commands maps each program name to its entry point; each returns the exit status.
var commands = map[string]func(args []string) int{
	"assemble":        assembleMain,
	"save-artifacts":  saveArtifactsMain,
	"fix-permissions": fixPermissionsMain,
	"run":             runMain,
	"usage":           usageMain,
	// Not installed under its own name: assemble puts it in CC and CXX.
	buildpaths.CompilerWrapper: reproducibleCCMain,
}

func main() {
	os.Exit(dispatch(os.Args))
}

func dispatch(argv []string) int {
	name, args := filepath.Base(argv[0]), argv[1:]
	if _, ok := commands[name]; !ok && len(args) > 0 {
		name, args = args[0], args[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "s2i-scripts: unknown program %q (want one of: %s)\n", name, strings.Join(names, ", "))
		return 2
	}
	return cmd(args)
}
