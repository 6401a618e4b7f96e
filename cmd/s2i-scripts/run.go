package main

import (
	"fmt"
	"os"
	goruntime "runtime"

	"github.com/pys2i/pys2i/run"
	"github.com/pys2i/pys2i/runtime"
)

// runMain is /usr/libexec/s2i/run: give an arbitrary uid a user name,
// decide how the app starts (package run), then launch it (package runtime).
func runMain(args []string) int {
	u := runtime.SetupUser("/", os.Getuid(), os.Getgid(), os.Environ())
	if u.Warning != "" {
		fmt.Fprintln(os.Stderr, u.Warning)
	}
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "run: %v\n", err)
		return 1
	}
	plan := run.Decide(run.Input{
		Env:         u.Env,
		Root:        "/",
		Dir:         dir,
		UID:         os.Getuid(),
		Limits:      run.ReadLimits("/", goruntime.NumCPU()),
		SetupPyName: runtime.SetupPyName,
	})
	return runtime.Execute(plan, os.Stdout, os.Stderr)
}
