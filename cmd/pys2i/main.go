// Command pys2i is the daemonless S2I build for Python images: "pys2i build
// SOURCE BUILDER [TAG]" with s2i's flags, PYS2I_* environment variables and
// an optional config file. This package only wires flags to library calls.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pys2i/pys2i/exitcode"
)

// version is set at link time: -ldflags '-X main.version=v1.2.3'.
var version = "unknown"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{
		stdout: os.Stdout,
		stderr: os.Stderr,
		// The containers/image inspector arrives with the build core (issue 6);
		// until then --as-dockerfile runs with s2i's defaults for the labels.
		inspector: nil,
	}
	err := a.execute(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(exitcode.Of(err))
}
