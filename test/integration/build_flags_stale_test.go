package integration

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A pys2i killed with SIGKILL during assemble cannot clean up: its build
// container (mounted), and its temp dir stay. Its sandbox dies with it
// (nothing of assemble keeps running). The next build sweeps the leftover,
// saying so, and then the store, the mount table and the dead process's
// TMPDIR are as before.
func TestBuildSweepsStaleContainer(t *testing.T) {
	builder := buildBuilder(t)
	const marker = "3141"
	src := buildFlaskApp(t, "never", map[string]string{
		".s2i/bin/assemble": "#!/bin/sh\necho started\nexec sleep " + marker + "\n",
	})
	tag := "localhost/pys2i-test/build-killed:latest"
	buildRmi(t, tag)
	before := buildSnapshot(t)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, killedTmp := buildCmd(t, ctx, "build", src, builder, tag)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "started" {
	}
	if !sleepRunning(marker) {
		t.Fatalf("assemble's sleep is not running\n%s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	cmd.Wait()

	// The sandbox dies with pys2i (Pdeathsig on its init).
	deadline := time.Now().Add(10 * time.Second)
	for sleepRunning(marker) {
		if time.Now().After(deadline) {
			t.Fatal("assemble still runs 10s after pys2i was killed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	left := buildSnapshot(t)
	var leftCtr []string
	for _, c := range left.containers {
		if !slices.Contains(before.containers, c) {
			leftCtr = append(leftCtr, c)
		}
	}
	if len(leftCtr) != 1 {
		t.Fatalf("want the killed build's container left in the store, found %v", leftCtr)
	}
	ents, _ := os.ReadDir(killedTmp)
	if len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "pys2i-build-") {
		t.Fatalf("want the killed build's temp dir left in its TMPDIR, found %v", ents)
	}
	if !strings.HasSuffix(leftCtr[0], " "+ents[0].Name()) {
		t.Errorf("container %s is not named as its temp dir %s", leftCtr[0], ents[0].Name())
	}
	// Its root stays mounted from the store.
	var ctrs []struct{ ID, Layer string }
	buildReadJSON(t, filepath.Join(buildGraphRoot(t), "overlay-containers", "containers.json"), &ctrs)
	layer := ""
	for _, c := range ctrs {
		if c.ID == strings.Fields(leftCtr[0])[0] {
			layer = c.Layer
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	mountPoint := filepath.Join(buildGraphRoot(t), "overlay", layer, "merged")
	if layer == "" || !strings.Contains(string(mi), " "+mountPoint+" ") {
		t.Fatalf("want the killed build's container root %s still mounted", mountPoint)
	}
	t.Logf("left: container %s, temp dir %s, mount %s", leftCtr[0], ents[0].Name(), mountPoint)

	// The next build, of another app, removes it.
	r := buildRun(t, "build", buildQuickSource(t), builder, tag, "-q")
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\n%s", r.code, r.stderr)
	}
	id := strings.Fields(leftCtr[0])[0]
	var lines []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "removed stale build container") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], id[:12]) || !strings.Contains(lines[0], ents[0].Name()) {
		t.Errorf("want one line about %s:\n%s", id[:12], r.stderr)
	}
	buildNoLeftovers(t, before, r)
	if ents, _ := os.ReadDir(killedTmp); len(ents) != 0 {
		t.Errorf("the killed build's temp dir is still in %s: %v", killedTmp, ents)
	}
}

// A build does not sweep the container of a live build: two builds at
// once both succeed.
func TestBuildSweepSparesLiveBuilds(t *testing.T) {
	builder := buildBuilder(t)
	src := buildFlaskApp(t, "never", map[string]string{
		".s2i/bin/assemble": "#!/bin/sh\necho started\nsleep 3\necho done\n",
	})
	tag := "localhost/pys2i-test/build-live:latest"
	buildRmi(t, tag)
	before := buildSnapshot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, tmp := buildCmd(t, ctx, "build", src, builder, tag)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "started" {
	}
	r := buildRun(t, "build", buildQuickSource(t), builder, tag+"-other", "-q")
	buildRmi(t, tag+"-other")
	for sc.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the first build: %v\n%s", err, errb.String())
	}
	if r.code != 0 || strings.Contains(r.stderr, "stale") {
		t.Fatalf("the second build: exit %d\n%s", r.code, r.stderr)
	}
	buildNoLeftovers(t, before, r)
	buildNoLeftovers(t, before, buildResult{tmp: tmp})
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
