package main

import (
	"fmt"
	"os"
)

// notYet stands in for a program that is not written yet: it says so and
// fails, so nobody mistakes the binary for a working one.
func notYet(name string) func([]string) int {
	return func([]string) int {
		fmt.Fprintf(os.Stderr, "s2i-scripts: %s is not implemented yet\n", name)
		return 1
	}
}
