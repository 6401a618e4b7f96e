package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// buildBuilderName is the test builder: python-minimal plus shell assemble
// and run scripts (the real pys2i builder image comes from another issue).
const buildBuilderName = "localhost/pys2i-test/build-builder:latest"

// buildOnce holds what is made once per test binary.
var buildOnce struct {
	binOnce, builderOnce sync.Once
	binPath              string
	binErr, builderErr   error
}

// buildBinary builds the pys2i command once per test binary, into bin/
// (git-ignored), where later runs find it cached.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.binOnce.Do(func() {
		root, err := filepath.Abs("../..")
		if err != nil {
			buildOnce.binErr = err
			return
		}
		buildOnce.binPath = filepath.Join(root, "bin", "pys2i-buildtest")
		cmd := exec.Command("go", "build", "-tags", "containers_image_openpgp,exclude_graphdriver_btrfs",
			"-o", buildOnce.binPath, "./cmd/pys2i")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildOnce.binErr = fmt.Errorf("go build ./cmd/pys2i: %w\n%s", err, out)
		}
	})
	if buildOnce.binErr != nil {
		t.Fatal(buildOnce.binErr)
	}
	return buildOnce.binPath
}

const buildAssembleScript = `#!/bin/sh
set -e
echo "---> Installing application source"
cp -Rf /tmp/src/. ./
echo "---> Installing dependencies"
python3 -m venv /opt/app-root/venv
/opt/app-root/venv/bin/pip install --disable-pip-version-check --no-cache-dir --index-url "$PIP_INDEX_URL" -r requirements.txt
`

const buildRunScript = `#!/bin/sh
exec /opt/app-root/venv/bin/gunicorn --bind "127.0.0.1:${PORT:-8080}" app:app
`

const buildContainerfile = `FROM localhost/pys2i-test/python-minimal:latest
COPY s2i/ /usr/libexec/s2i/
RUN mkdir -p /opt/app-root/src && chown -R 1001:0 /opt/app-root && chmod -R g=u /opt/app-root
LABEL io.openshift.s2i.scripts-url=image:///usr/libexec/s2i
ENV HOME=/opt/app-root/src
WORKDIR /opt/app-root/src
USER 1001
`

// buildBuilder makes the test builder in the world's store, once.
func buildBuilder(t *testing.T) string {
	t.Helper()
	buildOnce.builderOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pys2i-buildtest-ctx-")
		if err != nil {
			buildOnce.builderErr = err
			return
		}
		defer os.RemoveAll(dir)
		files := map[string]string{"Containerfile": buildContainerfile, "s2i/assemble": buildAssembleScript, "s2i/run": buildRunScript}
		for name, body := range files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				buildOnce.builderErr = err
				return
			}
			if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
				buildOnce.builderErr = err
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_, buildOnce.builderErr = world.Podman(ctx, w.Conf /* the world store: shared by every build test */, "build", "--network", "host", "-q", "-t", buildBuilderName, dir)
	})
	if buildOnce.builderErr != nil {
		t.Fatal(buildOnce.builderErr)
	}
	return buildBuilderName
}

// buildFlaskApp is a flask app whose / answers body.
func buildFlaskApp(t *testing.T, body string, extra map[string]string) string {
	t.Helper()
	files := map[string]string{
		"requirements.txt": "flask\ngunicorn\n",
		"app.py": fmt.Sprintf(`from flask import Flask
app = Flask(__name__)

@app.route("/")
def hello():
    return %q
`, body),
	}
	for k, v := range extra {
		files[k] = v
	}
	dir := appDir(t, files)
	for name := range extra {
		if strings.HasPrefix(name, ".s2i/bin/") {
			if err := os.Chmod(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

// buildResult is one run of the pys2i command.
type buildResult struct {
	stdout, stderr string
	code           int
	tmp            string // the command's TMPDIR
}

// buildCmd is the pys2i command with the world's podman configuration, a
// clean environment and its own TMPDIR (checked empty afterwards).
func buildCmd(t *testing.T, ctx context.Context, args ...string) (*exec.Cmd, string) {
	t.Helper()
	tmp := t.TempDir()
	cmd := exec.CommandContext(ctx, buildBinary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + tmp, "XDG_CONFIG_HOME=" + tmp}, buildConf(t).Env()...)
	return cmd, tmp
}

// buildBlocked is a pys2i command started until one of its scripts said
// "started" (a line of stdout or stderr) and blocks there.
type buildBlocked struct {
	cmd            *exec.Cmd
	tmp            string // its TMPDIR
	stdout, stderr *syncBuffer
	exited         chan error // cmd.Wait's result
}

// buildStartBlocked starts pys2i with args and returns once a line of its
// output is "started": the tests' assemble (or save-artifacts) scripts say
// it, on stdout or stderr, then block until pys2i is signalled.
func buildStartBlocked(t *testing.T, ctx context.Context, args ...string) *buildBlocked {
	t.Helper()
	cmd, tmp := buildCmd(t, ctx, args...)
	b := &buildBlocked{cmd: cmd, tmp: tmp, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = b.stdout, b.stderr
	// A sandbox that outlived pys2i would hold its output open, and Wait
	// with it: the test then fails instead of hanging.
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.exited <- cmd.Wait() }()
	said := func(out string) bool {
		return strings.HasPrefix(out, "started\n") || strings.Contains(out, "\nstarted\n")
	}
	for !said(b.stdout.String()) && !said(b.stderr.String()) {
		select {
		case err := <-b.exited:
			t.Fatalf("pys2i exited (%v) before its script started\nstdout:\n%s\nstderr:\n%s", err, b.stdout, b.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return b
}

// stop sends sig to pys2i and returns how it exited.
func (b *buildBlocked) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	if err := b.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	return <-b.exited
}

// buildRun runs pys2i to completion.
func buildRun(t *testing.T, args ...string) buildResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd, tmp := buildCmd(t, ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := buildResult{stdout: out.String(), stderr: errb.String(), tmp: tmp}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run pys2i: %v", err)
	}
	return r
}

// buildState is what a build may leave behind, defined so that other
// tests using the store meanwhile (podman run) do not count: containers
// named as pys2i names its build containers, layers that no image and no
// container uses, and mounts of the store's layers that no container owns.
type buildState struct {
	containers, layers, mounts []string
}

func buildSnapshot(t *testing.T) buildState {
	t.Helper()
	graph := buildGraphRoot(t)
	var images []struct {
		Layer string `json:"layer"`
	}
	var containers []struct {
		ID    string   `json:"id"`
		Names []string `json:"names"`
		Layer string   `json:"layer"`
	}
	var layers []struct {
		ID     string `json:"id"`
		Parent string `json:"parent"`
	}
	buildReadJSON(t, filepath.Join(graph, "overlay-images", "images.json"), &images)
	buildReadJSON(t, filepath.Join(graph, "overlay-containers", "containers.json"), &containers)
	buildReadJSON(t, filepath.Join(graph, "overlay-layers", "layers.json"), &layers)
	parent := map[string]string{}
	for _, l := range layers {
		parent[l.ID] = l.Parent
	}
	used := map[string]bool{}
	ctrLayer := map[string]bool{}
	var s buildState
	for _, c := range containers {
		for id := c.Layer; id != "" && !used[id]; id = parent[id] {
			used[id] = true
		}
		ctrLayer[c.Layer] = true
		for _, n := range c.Names {
			if strings.HasPrefix(n, "pys2i-build-") {
				s.containers = append(s.containers, c.ID+" "+n)
			}
		}
	}
	for _, img := range images {
		for id := img.Layer; id != "" && !used[id]; id = parent[id] {
			used[id] = true
		}
	}
	for _, l := range layers {
		if !used[l.ID] {
			s.layers = append(s.layers, l.ID)
		}
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(graph, "overlay") + "/"
	for _, line := range strings.Split(string(mi), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := f[4]
		if rest, ok := strings.CutPrefix(mp, prefix); ok {
			id, _, _ := strings.Cut(rest, "/")
			if len(id) == 64 && !ctrLayer[id] {
				s.mounts = append(s.mounts, mp)
			}
		} else if strings.Contains(mp, "pys2i-build-") {
			s.mounts = append(s.mounts, mp)
		}
	}
	return s
}

// minus is what s has that before has not.
func (s buildState) minus(before buildState) buildState {
	diff := func(after, before []string) []string {
		var out []string
		for _, x := range after {
			if !slices.Contains(before, x) {
				out = append(out, x)
			}
		}
		return out
	}
	return buildState{
		containers: diff(s.containers, before.containers),
		layers:     diff(s.layers, before.layers),
		mounts:     diff(s.mounts, before.mounts),
	}
}

// buildNoLeftovers fails if anything in the store or the mount table is
// left over that was not there before, or the command's TMPDIR is not empty.
func buildNoLeftovers(t *testing.T, before buildState, r buildResult) {
	t.Helper()
	left := buildSnapshot(t).minus(before)
	for _, set := range []struct {
		what string
		left []string
	}{
		{"build container left in the store", left.containers},
		{"layer left in the store, used by no image or container", left.layers},
		{"mount of the store left", left.mounts},
	} {
		for _, x := range set.left {
			t.Errorf("%s: %s", set.what, x)
		}
	}
	ents, err := os.ReadDir(r.tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) > 0 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("left in TMPDIR: %v", names)
	}
}

func buildGraphRoot(t *testing.T) string {
	t.Helper()
	return graphRootOf(t, buildConf(t).Storage)
}

// buildImageExists reports whether the store has name.
func buildImageExists(t *testing.T, name string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := world.Podman(ctx, buildConf(t), "image", "exists", name)
	return err == nil
}

// buildRmi removes images from the store when the test ends.
func buildRmi(t *testing.T, names ...string) {
	t.Cleanup(func() {
		for _, n := range names {
			world.Podman(context.Background(), buildConf(t), "rmi", "-f", n)
		}
	})
}

// buildServe runs image with podman as a random uid, waits until its / on
// a free port answers 200 with want, then stops it with podman rm -f.
func buildServe(t *testing.T, image, want string) {
	t.Helper()
	port := freePort(t)
	name := fmt.Sprintf("pys2i-buildtest-%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", "run", "--rm", "--name", name, "--network", "host",
		"--user", "12345:0", "-e", fmt.Sprintf("PORT=%d", port), image)
	cmd.Env = append(os.Environ(), buildConf(t).Env()...)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		world.Podman(context.Background(), buildConf(t), "rm", "-f", "-t", "0", name)
		<-exited
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != want {
				t.Fatalf("GET %s: %d %q, want 200 %q\n%s", url, resp.StatusCode, body, want, log.String())
			}
			return
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("podman run exited before answering: %v\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from %s within 60s: %v\n%s", url, err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// buildImageFromFiles writes files into a temp dir (executable, so that a
// script is ready to COPY), builds it with podman as tag (extra podman
// build arguments first) and removes the image when the test ends.
func buildImageFromFiles(t *testing.T, tag string, files map[string]string, args ...string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := append(append([]string{"build", "-q", "--network", "host"}, args...), "-t", tag, dir)
	if out, err := world.Podman(ctx, buildConf(t), build...); err != nil {
		t.Fatalf("build %s from this Containerfile:\n%s\n%v %s", tag, files["Containerfile"], err, out)
	}
	buildRmi(t, tag)
}
