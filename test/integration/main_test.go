// Package integration proves the test world end to end: real pip against the
// local index inside the base images, real gunicorn and mod_wsgi answering
// HTTP on loopback, real pipenv, real podman and a real registry.
package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.podman.io/storage/pkg/reexec"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/test/harness"
)

var w *harness.World

func TestMain(m *testing.M) {
	if reexec.Init() {
		return
	}
	sandbox.Init()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "integration tests need root (namespaces, podman)")
		return 1
	}
	var err error
	if w, err = harness.Setup(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		return 1
	}
	defer w.Close()
	return m.Run()
}

// spec is a sandbox spec in a base image whose writes persist in state.
func spec(t *testing.T, variant, state string, args ...string) sandbox.Spec {
	t.Helper()
	s, err := w.Spec(variant, args...)
	if err != nil {
		t.Fatal(err)
	}
	s.StateDir = state
	s.Env = append(s.Env, "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1")
	return s
}

// sh runs a shell script in the image and fails the test on a non-zero exit.
func sh(t *testing.T, ctx context.Context, s sandbox.Spec, script string) string {
	t.Helper()
	s.Args = []string{"/bin/sh", "-ec", script}
	out, err := harness.Output(ctx, s)
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return out
}

// appDir writes files into a new directory, to be mounted into a sandbox.
func appDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// serve starts s in the background and waits until url answers 200 with
// want as its body, then stops the server.
func serve(t *testing.T, s sandbox.Spec, url, want string) time.Duration {
	t.Helper()
	log := &syncBuffer{}
	s.Stdout, s.Stderr = log, log
	start := time.Now()
	p, err := sandbox.Start(s)
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.Wait() }()
	defer func() {
		p.Kill()
		<-exited
	}()
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && string(body) == want {
				return time.Since(start)
			}
			t.Fatalf("GET %s: %d %q, want 200 %q\n%s", url, resp.StatusCode, body, want, log.String())
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("server exited before answering: %v\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from %s within 30s: %v\n%s", url, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncBuffer collects a running server's output for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// freePort is a loopback port no other test of this binary was given.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := w.Port()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func exitCode(err error) int {
	var ee *sandbox.ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return -1
}
