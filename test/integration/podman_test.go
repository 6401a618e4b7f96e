package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
	"github.com/pys2i/pys2i/test/world/pyindex"
)

// podman runs the minimal image from the world's store, host network only.
func TestPodmanRunsMinimalImage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	img, _ := w.Image("minimal")
	out, err := world.Podman(ctx, w.Conf, "run", "--rm", "--network", "host", "--user", "1001:0", img.Name,
		"sh", "-c", `python3 -c 'import sys, venv; print("python", sys.version_info[:2])'; id -u; test -e /usr/lib/x86_64-linux-gnu/libnss_wrapper.so && echo nss_wrapper`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"python (3, 11)", "1001", "nss_wrapper"} {
		if !strings.Contains(out, want) {
			t.Errorf("podman run output lacks %q:\n%s", want, out)
		}
	}
}

// The minimal image goes to the local registry and back into a second, empty
// store with the digest the push reported.
func TestRegistryRoundTrip(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	img, _ := w.Image("minimal")
	tag := w.Registry.URL + "/pys2i-test/python-minimal:roundtrip"
	if _, err := world.Podman(ctx, w.Conf, "tag", img.Name, tag); err != nil {
		t.Fatal(err)
	}
	defer world.Podman(context.Background(), w.Conf, "untag", img.Name, tag)
	digestFile := filepath.Join(t.TempDir(), "digest")
	if _, err := world.Podman(ctx, w.Conf, "push", "-q", "--tls-verify=false", "--digestfile", digestFile, tag); err != nil {
		t.Fatal(err)
	}
	pushed, err := os.ReadFile(digestFile)
	if err != nil {
		t.Fatal(err)
	}
	// A separate store, so the pull really downloads every layer.
	other := emptyStore(t)
	if _, err := world.Podman(ctx, other, "pull", "-q", "--tls-verify=false", tag); err != nil {
		t.Fatal(err)
	}
	defer world.Podman(context.Background(), other, "rmi", "-af")
	got, err := world.Podman(ctx, other, "image", "inspect", "--format", "{{.Digest}}", tag)
	if err != nil {
		t.Fatal(err)
	}
	if got != strings.TrimSpace(string(pushed)) || !strings.HasPrefix(got, "sha256:") {
		t.Fatalf("pulled digest %q, pushed %q", got, pushed)
	}
	out, err := world.Podman(ctx, other, "run", "--rm", "--network", "host", tag, "python3", "-c", "print('pulled ok')")
	if err != nil || out != "pulled ok" {
		t.Fatalf("run pulled image: %q %v", out, err)
	}
}

// emptyStore is a podman configuration like the world's with its own
// graphroot, runroot and engine tmp_dir: `system reset` removes the tmp_dir,
// which is otherwise /run/libpod, shared with every other podman command
// running meanwhile (its exit files, events and alive lock).
func emptyStore(t *testing.T) world.Conf {
	t.Helper()
	dir := t.TempDir()
	c := w.Conf
	c.Storage = filepath.Join(dir, "storage.conf")
	body := fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(dir, "graph"), filepath.Join(dir, "run"))
	if err := os.WriteFile(c.Storage, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(w.Conf.Containers)
	if err != nil {
		t.Fatal(err)
	}
	tmpDir := fmt.Sprintf("tmp_dir = %q\n", filepath.Join(dir, "libpod-tmp"))
	if before, after, ok := strings.Cut(string(conf), "[engine]\n"); ok {
		conf = []byte(before + "[engine]\n" + tmpDir + after)
	} else {
		conf = append(conf, "\n[engine]\n"+tmpDir...)
	}
	c.Containers = filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(c.Containers, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The overlay driver leaves its mounts behind unless told to let go.
		world.Podman(context.Background(), c, "system", "reset", "-f")
	})
	return c
}

// A second build with an unchanged recipe reuses every cached part.
func TestWarmWorldBuildReusesCache(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := world.DefaultRecipe()
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	b := &world.Builder{Root: w.Root, Mirror: "http://127.0.0.1:1/unreachable", Recipe: r, Log: &log}
	start := time.Now()
	m, err := b.Build(ctx)
	if err != nil {
		t.Fatalf("warm build (must not touch the mirror): %v\n%s", err, log.String())
	}
	t.Logf("warm world build: %v", time.Since(start))
	wants := []string{"package index cached", "go image cached"}
	for _, l := range r.Lines {
		wants = append(wants, "base images "+l.Python+" cached", "runtime image "+l.Python+" cached")
	}
	for _, want := range wants {
		if !strings.Contains(log.String(), want) {
			t.Errorf("warm build log lacks %q:\n%s", want, log.String())
		}
	}
	if m.BaseKey != w.BaseKey || m.IndexKey != w.IndexKey {
		t.Errorf("keys changed: %s/%s vs %s/%s", m.BaseKey, m.IndexKey, w.BaseKey, w.IndexKey)
	}
}

// A package step that fails stops the build naming the step and the file,
// and leaves no index that a later build would trust.
func TestFailedIndexStepLeavesNoCache(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := world.DefaultRecipe()
	if err != nil {
		t.Fatal(err)
	}
	// A locked file that cannot be fetched (nothing listens on port 1): no network needed.
	const bad = "pys2i_no_such_file-1.0-py3-none-any.whl"
	r.Index.Files = append(append([]pyindex.LockedFile(nil), r.Index.Files...), pyindex.LockedFile{
		Name: "pys2i-no-such-file", Version: "1.0", Filename: bad,
		SHA256: strings.Repeat("0", 64), URL: "http://127.0.0.1:1/" + bad,
	})
	before, _ := os.ReadFile(filepath.Join(w.Root, "world.json"))
	var log strings.Builder
	b := &world.Builder{Root: w.Root, Mirror: world.DefaultMirror(), Recipe: r, Log: &log}
	_, err = b.Build(ctx)
	if err == nil || !strings.Contains(err.Error(), "step package index") || !strings.Contains(err.Error(), bad) {
		t.Fatalf("want an error naming the step and the package, got %v\n%s", err, log.String())
	}
	for _, pattern := range []string{"index-" + r.IndexKey(), ".tmp-*"} {
		if m, _ := filepath.Glob(filepath.Join(w.Root, pattern)); len(m) > 0 {
			t.Errorf("failed build left %v", m)
		}
	}
	after, _ := os.ReadFile(filepath.Join(w.Root, "world.json"))
	if string(before) != string(after) {
		t.Error("failed build changed world.json")
	}
	t.Logf("error: %v", err)
}

// The Go image (python-minimal plus the host's toolchain) builds a static
// program offline: the Containerfile's build stage relies on it.
func TestGoImageBuildsStaticProgram(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	img, err := w.Image("golang")
	if err != nil {
		t.Fatal(err)
	}
	out, err := world.Podman(ctx, w.Conf, "run", "--rm", "--network", "host", "-e", "CGO_ENABLED=0", img.Name, "sh", "-ec",
		`mkdir -p /src && cd /src && printf 'module hello\n\ngo 1.26\n' > go.mod
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello from go") }\n' > main.go
go build -o /tmp/hello . && /tmp/hello && go version`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "hello from go") || !strings.Contains(out, "go1.26") {
		t.Fatalf("go image output:\n%s", out)
	}
}
