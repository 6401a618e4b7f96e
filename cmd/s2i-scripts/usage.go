package main

import (
	"fmt"
	"os"

	"github.com/pys2i/pys2i/run"
)

// usageMain is /usr/libexec/s2i/usage: the usage text, exit status 0.
func usageMain(args []string) int {
	osRelease, err := os.ReadFile("/etc/os-release")
	if err != nil {
		osRelease, _ = os.ReadFile("/usr/lib/os-release")
	}
	fmt.Print(run.Usage(os.Environ(), osRelease))
	return 0
}
