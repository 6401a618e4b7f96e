package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/pys2i/pys2i/assemble/buildpaths"
	"github.com/pys2i/pys2i/internal/execpath"
)

// reproducibleCCMain is "s2i-scripts reproducible-cc COMPILER ARGS...",
// what assemble puts in CC and CXX when SOURCE_DATE_EPOCH is set: it runs
// COMPILER ARGS with -ffile-prefix-map options that record pip's random
// build directories (those in TMPDIR at this moment) as fixed placeholders.
func reproducibleCCMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: s2i-scripts reproducible-cc COMPILER [ARG...]")
		return 2
	}
	env := os.Environ()
	path, ok := execpath.Find(args[0], env, "")
	if !ok {
		fmt.Fprintf(os.Stderr, "reproducible-cc: %s: command not found\n", args[0])
		return 127
	}
	argv := append(append([]string{}, args...), buildpaths.CompilerFlags(os.TempDir())...)
	err := syscall.Exec(path, argv, env)
	fmt.Fprintf(os.Stderr, "reproducible-cc: %s: %v\n", path, err)
	return 126
}
