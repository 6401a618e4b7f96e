package main

import (
	"bufio"
	"fmt"
	"os"

	"github.com/pys2i/pys2i/assemble"
	"github.com/pys2i/pys2i/assemble/artifacts"
)

// saveArtifactsMain is /usr/libexec/s2i/save-artifacts: the dependency
// state as a tar on stdout.
func saveArtifactsMain(args []string) int {
	c := assemble.ConfigFromEnv(os.Getenv)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	err := artifacts.Save(w, artifacts.Paths{AppRoot: c.AppRoot, Home: c.Home, StateDir: c.StateDir})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ERROR: save-artifacts: %v\n", err)
		return 1
	}
	return 0
}
