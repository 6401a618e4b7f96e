package integration

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildKilled is what a pys2i build killed with SIGKILL left behind.
type buildKilled struct {
	left   buildState // in the store and the mount table, and not before
	tmp    string     // its TMPDIR
	tmpDir string     // the name of its temp dir there
	stderr string
}

// buildKill starts pys2i with args, waits until its script said "started"
// and runs "sleep marker", SIGKILLs pys2i, checks that the sandbox dies with
// it (Pdeathsig on its init), and returns what it left, which must include
// its temp dir (the only entry of its TMPDIR).
func buildKill(t *testing.T, before buildState, marker string, args ...string) buildKilled {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := buildStartBlocked(t, ctx, args...)
	if !sleepRunning(marker) {
		t.Fatalf("the script's sleep is not running\n%s", b.stderr)
	}
	b.stop(t, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for sleepRunning(marker) {
		if time.Now().After(deadline) {
			t.Fatal("the sandbox still runs 10s after pys2i was killed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	k := buildKilled{left: buildSnapshot(t).minus(before), tmp: b.tmp, stderr: b.stderr.String()}
	ents, _ := os.ReadDir(b.tmp)
	if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "pys2i-build-") {
		t.Fatalf("want the killed build's temp dir left in its TMPDIR, found %v\n%s", ents, k.stderr)
	}
	k.tmpDir = ents[0].Name()
	return k
}

// buildSweep runs a build (of another app, with the test builder, to
// another image) that must sweep what k left: one "removed stale build"
// line per want (the ID of a container, or of a bare layer), which the
// temp dir's name is in; then nothing is left that was not there before.
func buildSweep(t *testing.T, before buildState, k buildKilled, want ...string) {
	t.Helper()
	tag := "localhost/pys2i-test/build-sweeper:latest"
	buildRmi(t, tag)
	r := buildRun(t, "build", buildQuickSource(t), buildBuilder(t), tag, "-q")
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\n%s", r.code, r.stderr)
	}
	var lines []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "pys2i: removed stale build ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(want) || !strings.Contains(r.stderr, k.tmpDir) {
		t.Errorf("want %d lines about %v, one with the temp dir %s:\n%s", len(want), want, k.tmpDir, r.stderr)
	}
	for _, id := range want {
		n := 0
		for _, l := range lines {
			if strings.Contains(l, " "+id[:12]+" ") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("want one line about %.12s:\n%s", id, r.stderr)
		}
	}
	buildNoLeftovers(t, before, r)
	if ents, _ := os.ReadDir(k.tmp); len(ents) != 0 {
		t.Errorf("the killed build's temp dir is still in %s: %v", k.tmp, ents)
	}
}

// buildLayerMount is where the store mounts a layer.
func buildLayerMount(t *testing.T, layer string) string {
	t.Helper()
	return filepath.Join(buildGraphRoot(t), "overlay", layer, "merged")
}

// buildMounted reports whether something is mounted on mountPoint.
func buildMounted(t *testing.T, mountPoint string) bool {
	t.Helper()
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(mi), " "+mountPoint+" ")
}

// buildContainerLayer is the layer of the store's container id.
func buildContainerLayer(t *testing.T, id string) string {
	t.Helper()
	var ctrs []struct{ ID, Layer string }
	buildReadJSON(t, filepath.Join(buildGraphRoot(t), "overlay-containers", "containers.json"), &ctrs)
	for _, c := range ctrs {
		if c.ID == id {
			return c.Layer
		}
	}
	t.Fatalf("no container %s in the store", id)
	return ""
}

// buildLayerNames are the names of the store's layer id.
func buildLayerNames(t *testing.T, id string) []string {
	t.Helper()
	var layers []struct {
		ID    string   `json:"id"`
		Names []string `json:"names"`
	}
	buildReadJSON(t, filepath.Join(buildGraphRoot(t), "overlay-layers", "layers.json"), &layers)
	for _, l := range layers {
		if l.ID == id {
			return l.Names
		}
	}
	t.Fatalf("no layer %s in the store", id)
	return nil
}

// A pys2i killed with SIGKILL during assemble cannot clean up: its build
// container (mounted), and its temp dir stay. Its sandbox dies with it
// (nothing of assemble keeps running). The next build sweeps the leftover,
// saying so, and then the store, the mount table and the dead process's
// TMPDIR are as before.
func TestBuildSweepsStaleContainer(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	const marker = "3141"
	src := buildFlaskApp(t, "never", map[string]string{
		".s2i/bin/assemble": "#!/bin/sh\necho started\nexec sleep " + marker + "\n",
	})
	tag := "localhost/pys2i-test/build-killed:latest"
	buildRmi(t, tag)
	before := buildSnapshot(t)

	k := buildKill(t, before, marker, "build", src, builder, tag)
	if len(k.left.containers) != 1 {
		t.Fatalf("want the killed build's container left in the store, found %v", k.left.containers)
	}
	id, name, _ := strings.Cut(k.left.containers[0], " ")
	if name != k.tmpDir {
		t.Errorf("container %s is not named as its temp dir %s", name, k.tmpDir)
	}
	// Its root stays mounted from the store.
	mountPoint := buildLayerMount(t, buildContainerLayer(t, id))
	if !buildMounted(t, mountPoint) {
		t.Fatalf("want the killed build's container root %s still mounted", mountPoint)
	}
	t.Logf("left: container %s, temp dir %s, mount %s", k.left.containers[0], k.tmpDir, mountPoint)

	buildSweep(t, before, k, id)
}

// A rebuild that reuses the previous dependency layer runs on a bare layer
// of the store (no container record). Killed with SIGKILL during assemble,
// it leaves that layer, mounted, and its temp dir; the next build sweeps
// them as it sweeps containers.
func TestBuildSweepsStaleLayer(t *testing.T) {
	buildIsolate(t)
	builder := imagesVariants["minimal"]
	tag := "localhost/pys2i-test/build-killed-reuse:latest"
	reuseFresh(t, tag)
	src := reuseApp(t, "killed v1", "flask\ngunicorn\n")
	index := "PIP_INDEX_URL=" + w.Index.URL
	reuseBuild(t, src, builder, tag, "-e", index)

	// A source-only change (an own assemble is not a dependency input),
	// whose assemble blocks.
	const marker = "2718"
	if err := os.MkdirAll(filepath.Join(src, ".s2i", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, ".s2i", "bin", "assemble"), []byte("#!/bin/sh\necho started\nexec sleep "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := buildSnapshot(t)
	k := buildKill(t, before, marker, "build", src, builder, tag, "-e", index)
	if !strings.Contains(k.stderr, "pys2i: reusing the dependency layer") {
		t.Fatalf("the killed build did not reuse the dependency layer:\n%s", k.stderr)
	}
	if len(k.left.containers) != 0 || len(k.left.layers) != 1 {
		t.Fatalf("want only the killed build's bare layer left in the store, found containers %v, layers %v", k.left.containers, k.left.layers)
	}
	layer := k.left.layers[0]
	if names := buildLayerNames(t, layer); !slices.Equal(names, []string{k.tmpDir}) {
		t.Errorf("layer %s is named %v, not as its temp dir %s", layer, names, k.tmpDir)
	}
	mountPoint := buildLayerMount(t, layer)
	if !slices.Equal(k.left.mounts, []string{mountPoint}) || !buildMounted(t, mountPoint) {
		t.Fatalf("want the killed build's layer mounted at %s, found mounts %v", mountPoint, k.left.mounts)
	}
	t.Logf("left: layer %s, temp dir %s, mount %s", layer, k.tmpDir, mountPoint)

	buildSweep(t, before, k, layer)
	if buildMounted(t, mountPoint) {
		t.Errorf("%s is still mounted", mountPoint)
	}
}

// --incremental runs save-artifacts in a container of the previous image,
// named as the build: killed with SIGKILL there, pys2i leaves it and the
// build container, both mounted; the next build sweeps both.
func TestBuildSweepsStaleArtifactsContainer(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	const marker = "1618"
	// Its stdout is the artifacts tar: "started" goes to stderr.
	src := incrementalSource(t, "#!/bin/sh\necho started >&2\nexec sleep "+marker+"\n")
	tag := "localhost/pys2i-test/build-killed-incremental:latest"
	reuseFresh(t, tag)
	reuseBuild(t, src, builder, tag, "--incremental")

	before := buildSnapshot(t)
	k := buildKill(t, before, marker, "build", src, builder, tag, "--incremental")
	if !strings.Contains(k.stderr, "saving artifacts of the previous image") {
		t.Fatalf("the killed build did not run save-artifacts:\n%s", k.stderr)
	}
	buildSweepPair(t, before, k, "-artifacts")
}

// A build does not sweep the container of a live build: two builds at
// once both succeed.
func TestBuildSweepSparesLiveBuilds(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildFlaskApp(t, "never", map[string]string{
		".s2i/bin/assemble": "#!/bin/sh\necho started\nsleep 3\necho done\n",
	})
	tag := "localhost/pys2i-test/build-live:latest"
	buildRmi(t, tag)
	before := buildSnapshot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b := buildStartBlocked(t, ctx, "build", src, builder, tag)
	r := buildRun(t, "build", buildQuickSource(t), builder, tag+"-other", "-q")
	buildRmi(t, tag+"-other")
	if err := <-b.exited; err != nil {
		t.Fatalf("the first build: %v\n%s", err, b.stderr)
	}
	if r.code != 0 || strings.Contains(r.stderr, "stale") {
		t.Fatalf("the second build: exit %d\n%s", r.code, r.stderr)
	}
	buildNoLeftovers(t, before, r)
	buildNoLeftovers(t, before, buildResult{tmp: b.tmp})
}

// sleepRunning reports whether a "sleep ARG" process runs on the host.
func sleepRunning(arg string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && string(b) == "sleep\x00"+arg+"\x00" {
			return true
		}
	}
	return false
}

// A build killed while the runtime image's assemble-runtime runs leaves the
// builder's container and the runtime image's (named as the build, with
// "-runtime"), both mounted; the next build removes both, and the temp dir.
func TestBuildSweepsStaleRuntimeContainer(t *testing.T) {
	buildIsolate(t)
	const marker = "1619"
	rt := "localhost/pys2i-test/runtime-blocking:latest"
	buildImageFromFiles(t, rt, map[string]string{
		"Containerfile": "FROM " + imagesVariants["minimal"] + "\nUSER 0\n" +
			"COPY assemble-runtime /usr/libexec/s2i/assemble-runtime\nUSER 1001\n",
		"assemble-runtime": "#!/bin/sh\necho started\nexec sleep " + marker + "\n",
	})
	src, err := filepath.Abs(filepath.Join("..", "apps", "app-py"))
	if err != nil {
		t.Fatal(err)
	}
	tag := "localhost/pys2i-test/build-killed-runtime:latest"
	buildRmi(t, tag)

	before := buildSnapshot(t)
	k := buildKill(t, before, marker, "build", src, imagesVariants["minimal"], tag, "--runtime-image", rt,
		"-e", "PIP_INDEX_URL="+w.Index.URL)
	buildSweepPair(t, before, k, "-runtime")
	if buildImageExists(t, tag) {
		t.Errorf("the killed build wrote %s", tag)
	}
}

// buildSweepPair checks that k left two containers, both mounted: the
// build's and the one named as it with suffix (save-artifacts' or the
// runtime image's); then that the next build sweeps both, their mounts
// and the temp dir.
func buildSweepPair(t *testing.T, before buildState, k buildKilled, suffix string) {
	t.Helper()
	names, ids := k.containers()
	if len(names) != 2 || names[k.tmpDir] == "" || names[k.tmpDir+suffix] == "" {
		t.Fatalf("want the build's container and %s%s left, found %v\n%s", k.tmpDir, suffix, k.left.containers, k.stderr)
	}
	var mounts []string
	for _, id := range ids {
		mp := buildLayerMount(t, buildContainerLayer(t, id))
		if !buildMounted(t, mp) {
			t.Fatalf("want the root of container %.12s still mounted at %s", id, mp)
		}
		mounts = append(mounts, mp)
	}
	buildSweep(t, before, k, ids...)
	for _, mp := range mounts {
		if buildMounted(t, mp) {
			t.Errorf("%s is still mounted", mp)
		}
	}
}

// A rebuild that reuses a --runtime-image build's dependency layer also
// has the runtime image with that layer as a bare layer (named as the
// build, with "-runtime-deps"): killed while assemble-runtime runs there,
// pys2i leaves it and both containers, mounted; the next build sweeps all
// three.
func TestBuildSweepsStaleRuntimeDepsLayer(t *testing.T) {
	buildIsolate(t)
	const marker = "1620"
	rt := "localhost/pys2i-test/runtime-blocking-reuse:latest"
	buildImageFromFiles(t, rt, map[string]string{
		"Containerfile": "FROM " + imagesVariants["minimal"] + "\nUSER 0\n" +
			"COPY assemble-runtime /usr/libexec/s2i/assemble-runtime\nUSER 1001\n",
		"assemble-runtime": "#!/bin/sh\nif grep -q BLOCK wsgi.py; then echo started; exec sleep " + marker + "; fi\n",
	})
	tag := "localhost/pys2i-test/build-killed-runtime-reuse:latest"
	reuseFresh(t, tag)
	src := reuseApp(t, "v1", "six\n")
	args := []string{"build", src, imagesVariants["minimal"], tag, "--runtime-image", rt, "-e", "PIP_INDEX_URL=" + w.Index.URL}
	reuseBuild(t, args[1:]...)
	v1 := reuseInspect(t, tag)
	reuseSetBody(t, src, "BLOCK")

	before := buildSnapshot(t)
	k := buildKill(t, before, marker, args...)
	if !strings.Contains(k.stderr, "pys2i: reusing the dependency layer") {
		t.Fatalf("the killed build did not reuse the dependency layer:\n%s", k.stderr)
	}
	names, ids := k.containers()
	for _, l := range k.left.layers {
		if slices.Equal(buildLayerNames(t, l), []string{k.tmpDir + "-runtime-deps"}) {
			ids = append(ids, l)
			if mp := buildLayerMount(t, l); !buildMounted(t, mp) {
				t.Errorf("want the runtime image with the reused layer still mounted at %s", mp)
			}
		}
	}
	if names[k.tmpDir] == "" || names[k.tmpDir+"-runtime"] == "" || len(ids) != 3 {
		t.Fatalf("want the build's container, its -runtime container and its -runtime-deps layer left, found containers %v, layers %v\n%s",
			k.left.containers, k.left.layers, k.stderr)
	}
	buildSweep(t, before, k, ids...)
	if now := reuseInspect(t, tag); now.Digest != v1.Digest {
		t.Errorf("the killed build changed %s: %s, was %s", tag, now.Digest, v1.Digest)
	}
}

// containers are the containers k left, by name, and their IDs.
func (k buildKilled) containers() (map[string]string, []string) {
	names := map[string]string{}
	var ids []string
	for _, c := range k.left.containers {
		id, name, _ := strings.Cut(c, " ")
		names[name] = id
		ids = append(ids, id)
	}
	return names, ids
}
