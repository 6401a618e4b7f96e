package integration

import (
	"strings"
	"testing"
)

// incrementalSource is a source for the test builder (any S2I builder, no
// pys2i program in it) with its own assemble and save-artifacts: a counter
// kept outside $HOME, saved by save-artifacts and restored from
// /tmp/artifacts by the next build.
func incrementalSource(t *testing.T, saveArtifacts string) string {
	t.Helper()
	if saveArtifacts == "" {
		saveArtifacts = "#!/bin/sh\nset -e\ncd /opt/app-root/state\ntar cf - count.txt\n"
	}
	return buildFlaskApp(t, "incremental", map[string]string{
		".s2i/bin/assemble": `#!/bin/sh
set -e
mv /tmp/src/* ./
if [ -f /tmp/artifacts/count.txt ]; then
  n=$(( $(cat /tmp/artifacts/count.txt) + 1 ))
  echo "restored count $n from $(stat -c %u /tmp/artifacts/count.txt)"
else
  n=1
  echo "no artifacts"
fi
mkdir -p /opt/app-root/state
echo $n > /opt/app-root/state/count.txt
`,
		".s2i/bin/save-artifacts": saveArtifacts,
	})
}

// --incremental works s2i's way with any builder that has save-artifacts:
// it runs in the previous image, its tar lands in /tmp/artifacts owned by
// the assemble user; --incremental-from takes another image; --rm removes
// the previous one.
func TestBuildIncrementalSaveArtifacts(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := incrementalSource(t, "")
	tag := "localhost/pys2i-test/incremental:latest"
	other := "localhost/pys2i-test/incremental-other:latest"
	reuseFresh(t, tag)
	reuseFresh(t, other)

	r := reuseBuild(t, src, builder, tag, "--incremental")
	if !strings.Contains(r.stdout, "no artifacts") {
		t.Fatalf("first build:\n%s\n%s", r.stdout, r.stderr)
	}
	first := buildPodman(t, "image", "inspect", "--format", "{{.Id}}", tag)

	before := buildSnapshot(t)
	r = reuseBuild(t, src, builder, tag, "--incremental", "--rm")
	buildNoLeftovers(t, before, r)
	if !strings.Contains(r.stdout, "restored count 2 from 1001") || !strings.Contains(r.stderr, "saving artifacts of the previous image") {
		t.Errorf("second build did not restore the artifacts:\n%s\n%s", r.stdout, r.stderr)
	}
	if buildImageExists(t, first) {
		t.Errorf("--rm left the previous image %s", first)
	}

	r = reuseBuild(t, src, builder, other, "--incremental", "--incremental-from", tag)
	if !strings.Contains(r.stdout, "restored count 3") {
		t.Errorf("--incremental-from did not restore from %s:\n%s\n%s", tag, r.stdout, r.stderr)
	}
}

// A save-artifacts tar that reaches outside /tmp/artifacts fails the build
// with a clear error, and nothing is left behind.
func TestBuildIncrementalEvilArtifacts(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	tag := "localhost/pys2i-test/incremental-evil:latest"
	reuseFresh(t, tag)
	// GNU tar strips "../" when it writes; Python's tarfile does not.
	src := incrementalSource(t, `#!/bin/sh
exec python3 -c 'import io, sys, tarfile
t = tarfile.open(fileobj=sys.stdout.buffer, mode="w|")
i = tarfile.TarInfo("../escape.txt"); i.size = 1
t.addfile(i, io.BytesIO(b"x")); t.close()'
`)
	reuseBuild(t, src, builder, tag, "--incremental")
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, builder, tag, "--incremental")
	if r.code == 0 || !strings.Contains(r.stderr, "outside its directory") {
		t.Errorf("exit %d, want a failure naming the escape:\n%s", r.code, r.stderr)
	}
	buildNoLeftovers(t, before, r)
}

// --incremental-from a pys2i image with the same dependencies reuses its
// dependency layer for another output name: no pip.
func TestBuildIncrementalFromReuse(t *testing.T) {
	buildIsolate(t)
	builder := imagesVariants["minimal"]
	prev := "localhost/pys2i-test/incremental-from-prev:latest"
	tag := "localhost/pys2i-test/incremental-from:latest"
	reuseFresh(t, prev)
	reuseFresh(t, tag)
	src := reuseApp(t, "from v1", "flask\ngunicorn\n")
	index := "PIP_INDEX_URL=" + w.Index.URL
	reuseBuild(t, src, builder, prev, "-e", index)
	reuseSetBody(t, src, "from v2")
	r := reuseBuild(t, src, builder, tag, "-e", index, "--incremental", "--incremental-from", prev)
	if !strings.Contains(r.stdout, "Reusing dependencies from the previous build") || strings.Contains(r.stdout, "Collecting") {
		t.Errorf("no reuse:\n%s\n%s", r.stdout, r.stderr)
	}
	n := reuseBuilderLayers(t, builder)
	if a, b := reuseInspect(t, prev), reuseInspect(t, tag); a.Layers[n] != b.Layers[n] {
		t.Errorf("dependency layer differs: %v %v", a.Layers, b.Layers)
	}
	buildServe(t, tag, "from v2")
}

// --incremental with no previous image says so once, plainly, with no
// pull retries, and builds (not incrementally): TAG in no store, or in a
// registry that does not have it.
func TestBuildIncrementalNoPrevious(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := incrementalSource(t, "")
	for _, tt := range []struct {
		name, tag string
		args      []string
	}{
		{"local name", "localhost/pys2i-test/build-noprev:latest", nil},
		{"registry", w.Registry.URL + "/pys2i-test/build-noprev:latest", []string{"--tls-verify=false"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			buildRmi(t, tt.tag)
			before := buildSnapshot(t)
			r := buildRun(t, append([]string{"build", src, builder, tt.tag, "--incremental"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			want := "pys2i: no previous image " + tt.tag + ": this build is not incremental"
			if n := strings.Count(r.stderr, want); n != 1 || strings.Contains(r.stderr, "failed (attempt") {
				t.Errorf("want %q once and no retries, got:\n%s", want, r.stderr)
			}
			if !strings.Contains(r.stdout, "no artifacts") {
				t.Errorf("assemble got artifacts:\n%s", r.stdout)
			}
			buildNoLeftovers(t, before, r)
		})
	}
}
