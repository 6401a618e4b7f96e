package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// The same source, builder and index give the same image, twice: layers
// clamped to SOURCE_DATE_EPOCH, hash-based pycs, a fixed creation time. A
// rebuild that reuses the dependency layer gives that image too.
func TestBuildReproducibleDigest(t *testing.T) {
	builder := imagesVariants["minimal"]
	tag := "localhost/pys2i-test/repro:latest"
	reuseFresh(t, tag)
	src := reuseApp(t, "repro", "flask\ngunicorn\n")
	index := "PIP_INDEX_URL=" + w.Index.URL

	reuseBuild(t, src, builder, tag, "-e", index)
	first := reuseInspect(t, tag)
	buildRmiNow(t, tag)
	r := reuseBuild(t, src, builder, tag, "-e", index)
	if strings.Contains(r.stdout, "Reusing dependencies") {
		t.Fatalf("the second build reused a removed image:\n%s", r.stdout)
	}
	second := reuseInspect(t, tag)
	if first.Digest != second.Digest {
		t.Errorf("two builds, two digests: %s %v\n%s %v", first.Digest, first.Layers, second.Digest, second.Layers)
	}
	r = reuseBuild(t, src, builder, tag, "-e", index)
	if !strings.Contains(r.stdout, "Reusing dependencies") {
		t.Fatalf("the third build did not reuse:\n%s", r.stdout)
	}
	if third := reuseInspect(t, tag); third.Digest != first.Digest {
		t.Errorf("a reusing build gives another image: %s %v, fresh %s %v", third.Digest, third.Layers, first.Digest, first.Layers)
	}

	// The creation time is the fixed epoch (1980-01-01), not the clock's.
	created := buildPodman(t, "image", "inspect", "--format", "{{.Created.UTC.Format \"2006-01-02T15:04:05Z\"}}", tag)
	if created != "1980-01-01T00:00:00Z" {
		t.Errorf("created %s, want the default SOURCE_DATE_EPOCH 1980-01-01T00:00:00Z", created)
	}
	// SOURCE_DATE_EPOCH set by the build env moves it.
	reuseBuild(t, src, builder, tag, "-e", index, "-e", "SOURCE_DATE_EPOCH=1700000000")
	if created := buildPodman(t, "image", "inspect", "--format", "{{.Created.UTC.Format \"2006-01-02T15:04:05Z\"}}", tag); created != "2023-11-14T22:13:20Z" {
		t.Errorf("created %s with SOURCE_DATE_EPOCH=1700000000", created)
	}
}

func buildRmiNow(t *testing.T, name string) {
	t.Helper()
	buildPodman(t, "rmi", "-f", name)
}

func buildPodman(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := world.Podman(ctx, w.Conf, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
