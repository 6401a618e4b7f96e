// Command pys2i is the daemonless S2I build for Python images.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "pys2i: not yet: the daemonless build is not implemented (see the issues)")
	os.Exit(1)
}
