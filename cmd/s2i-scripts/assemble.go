package main

import (
	"context"
	"os"

	"github.com/pys2i/pys2i/assemble"
)

// assembleMain is /usr/libexec/s2i/assemble.
func assembleMain(args []string) int {
	return assemble.Main(context.Background(), os.Environ(), os.Stdout, os.Stderr)
}
