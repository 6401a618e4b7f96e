package integration

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// buildQuickSource is a source whose own assemble (from .s2i/bin) runs in
// no time: it moves the source in, writes outside $HOME and asks for a label.
func buildQuickSource(t *testing.T, over ...map[string]string) string {
	t.Helper()
	files := map[string]string{
		".s2i/environment": "QUICK_VAR=from-s2i-env\n",
		".s2i/bin/assemble": `#!/bin/sh
set -e
# as sclorg's assemble does: needs /tmp/src to be the assemble user's
mv /tmp/src/* ./
echo "$QUICK_VAR $(id -u):$(id -g) $(pwd)" > /opt/app-root/outside.txt
mkdir -p /tmp/.s2i
echo '{"labels":[{"io.pys2i.test.quick":"yes"}]}' > /tmp/.s2i/image_metadata.json
echo assembled
`,
	}
	for _, o := range over { // files replaced or added
		maps.Copy(files, o)
	}
	return buildFlaskApp(t, "quick", files)
}

// The committed image: labels from image_metadata.json, the source's
// .s2i/environment in Env and in assemble's, assemble as the image's USER in
// its WORKDIR, the injected source left out, OCI annotations on the manifest.
func TestBuildCommitsConfig(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildQuickSource(t)
	tag := "localhost/pys2i-test/build-quick:latest"
	buildRmi(t, tag)
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, builder, tag, "--loglevel", "2")
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	buildNoLeftovers(t, before, r)
	t.Logf("%s", strings.TrimSpace(r.stderr))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	label, err := world.Podman(ctx, buildConf(t), "image", "inspect", "--format", `{{index .Labels "io.pys2i.test.quick"}} {{.Config.Env}}`, tag)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(label, "yes ") || !strings.Contains(label, "QUICK_VAR=from-s2i-env") {
		t.Errorf("label and env: %q", label)
	}
	out, err := world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", tag, "sh", "-c",
		"cat /opt/app-root/outside.txt; test -f /opt/app-root/src/app.py && echo app; test -e /tmp/src || echo no-tmp-src; stat -c %u /opt/app-root/src/app.py")
	if err != nil {
		t.Fatal(err)
	}
	if want := "from-s2i-env 1001:0 /opt/app-root/src\napp\nno-tmp-src\n1001"; out != want {
		t.Errorf("in the image:\n%s\nwant:\n%s", out, want)
	}

	// The same build to an OCI layout: the manifest carries the annotations.
	dir := filepath.Join(t.TempDir(), "layout")
	r = buildRun(t, "build", src, builder, "oci:"+dir+":quick", "-q")
	if r.code != 0 {
		t.Fatalf("pys2i build to oci: exit %d\n%s", r.code, r.stderr)
	}
	var index struct {
		Manifests []struct{ Digest string }
	}
	buildReadJSON(t, filepath.Join(dir, "index.json"), &index)
	if len(index.Manifests) != 1 {
		t.Fatalf("index: %+v", index)
	}
	var man struct{ Annotations map[string]string }
	buildReadJSON(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(index.Manifests[0].Digest, "sha256:")), &man)
	for k, want := range map[string]string{
		"org.opencontainers.image.base.name": builder,
		"org.opencontainers.image.source":    src,
	} {
		if man.Annotations[k] != want {
			t.Errorf("annotation %s = %q, want %q (all: %v)", k, man.Annotations[k], want, man.Annotations)
		}
	}
	if !strings.HasPrefix(man.Annotations["org.opencontainers.image.base.digest"], "sha256:") || man.Annotations["org.opencontainers.image.created"] == "" {
		t.Errorf("annotations: %v", man.Annotations)
	}
}

func buildReadJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return // a store that has not held one yet
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// A build that fails while writing the image (after assemble succeeded)
// writes nothing and leaves nothing behind either. The output passes the
// check before the build (a file can be made there) but cannot hold the
// image: a 64 KiB file system.
func TestBuildFailingCommit(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildQuickSource(t)
	out := filepath.Join(buildTmpfs(t, "64k", nil, false), "image")
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, builder, "dir:"+out)
	if r.code == 0 {
		t.Fatalf("pys2i build succeeded:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "assembled") || !strings.Contains(r.stderr, out) {
		t.Errorf("want assemble to have run and the write to fail:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	buildNoLeftovers(t, before, r)
	if _, err := os.Lstat(out); !os.IsNotExist(err) {
		t.Errorf("the failed write left %s behind (%v)", out, err)
	}
}
