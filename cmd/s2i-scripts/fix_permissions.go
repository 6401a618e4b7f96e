package main

import (
	"os"

	"github.com/pys2i/pys2i/fixperms"
)

// fixPermissionsMain is /usr/bin/fix-permissions PATH [-P|-L|-H]; always 0.
func fixPermissionsMain(args []string) int { return fixperms.Main(args, os.Stderr) }
