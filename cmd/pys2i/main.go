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

	"go.podman.io/storage/pkg/reexec"

	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/internal/exitcode"
)

// version is set at link time: -ldflags '-X main.version=v1.2.3'.
var version = "unknown"

func main() {
	// The sandbox's init and the storage driver's helpers are this binary
	// re-executed: each must take over before anything else runs.
	sandbox.Init()
	if reexec.Init() {
		return
	}
	// Every signal that would end the process ends the build instead, so
	// that it removes its container and mount (s2i does the same for these);
	// the exit status then says which signal it was (130, 143). SIGPIPE is
	// one of them: an output pipe closed early (| head) would otherwise kill
	// the process at its next log line, with the container still mounted.
	ctx, stop := signalContext(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE)
	a := &app{
		stdout: os.Stdout,
		stderr: os.Stderr,
		images: images.New,
	}
	err := a.execute(ctx, os.Args[1:])
	stop()
	signal.Ignore(syscall.SIGPIPE) // the last words to a closed pipe are lost, not the exit status
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(exitcode.Final(err, context.Cause(ctx)))
}

// signalContext is cancelled by the first of sigs, with an
// *exitcode.Signal as its cause; later ones are ignored until stop.
func signalContext(sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				cancel(&exitcode.Signal{Sig: s.(syscall.Signal)})
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
	}
}
