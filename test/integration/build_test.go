package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// pys2i build of a flask app with the test builder gives an image in the
// world's store that podman runs as a random uid, with the config s2i
// commits and two new layers; credentials in the index URL are never shown
// and never stored (config, labels, history, layers).
func TestBuildFlaskApp(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildFlaskApp(t, "Hello from pys2i build", nil)
	tag := "localhost/pys2i-test/build-flask:latest"
	buildRmi(t, tag)
	// The index ignores credentials: they are there to be hidden.
	index := strings.Replace(w.Index.URL, "http://", "http://builduser:s3cr3tpw@", 1)
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, builder, tag, "-e", "PIP_INDEX_URL="+index, "--loglevel", "1")
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	buildNoLeftovers(t, before, r)
	if !strings.Contains(r.stdout, "Successfully installed") {
		t.Errorf("assemble's output did not reach stdout:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cr3tpw") {
		t.Errorf("the password was printed:\n%s\n%s", r.stdout, r.stderr)
	}
	if m := regexp.MustCompile(`pys2i: built .*`).FindString(r.stderr); m != "" {
		t.Logf("%s", m)
	}
	if fi, err := os.Stat(buildBinary(t)); err == nil {
		t.Logf("pys2i binary: %.1f MB", float64(fi.Size())/1e6)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inspect, err := world.Podman(ctx, buildConf(t), "image", "inspect", tag)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(inspect, "s3cr3tpw") {
		t.Errorf("the password is in the image config, labels or history:\n%s", inspect)
	}
	secretsScan(t, tag, "s3cr3tpw") // and in no layer
	for _, want := range []string{
		`"/usr/libexec/s2i/run"`,                            // Cmd: the run script
		`"io.openshift.s2i.build.image": "` + builder + `"`, // generated label
		`"io.k8s.display-name": "` + tag + `"`,
		`"pys2i build: assemble (outside /opt/app-root/src)"`, // one history entry per layer
		`"pys2i build: assemble (/opt/app-root/src)"`,
		`PIP_INDEX_URL=http://***@127.0.0.1`, // build env, masked
	} {
		if !strings.Contains(inspect, want) {
			t.Errorf("image inspect lacks %s:\n%s", want, inspect)
		}
	}
	n, err := world.Podman(ctx, buildConf(t), "image", "inspect", "--format", "{{len .RootFS.Layers}}", tag)
	if err != nil {
		t.Fatal(err)
	}
	bn, err := world.Podman(ctx, buildConf(t), "image", "inspect", "--format", "{{len .RootFS.Layers}}", builder)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(n) != fmt.Sprint(buildAtoi(t, bn)+3) {
		t.Errorf("the image has %s layers, the builder %s: want three more (dependencies, application, SBOM)", n, bn)
	}
	// The application layer holds the source; the one below, the venv.
	out, err := world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", "--user", "12345:0", tag,
		"sh", "-c", "test -f /opt/app-root/src/app.py && test -x /opt/app-root/venv/bin/gunicorn && test ! -e /tmp/src/app.py && echo ok")
	if err != nil || out != "ok" {
		t.Errorf("files in the image: %q %v", out, err)
	}
	buildServe(t, tag, "Hello from pys2i build")
}

func buildAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// Output to oci:, oci-archive:, docker-archive: and a registry works, and
// each image pulled back from there runs.
func TestBuildOutputTransports(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildFlaskApp(t, "Hello from another transport", nil)
	// Not t.TempDir: podman names an oci: image after its path, which
	// must then be lowercase.
	dir, err := os.MkdirTemp("", "pys2i-buildtest-out-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tests := []struct {
		name, tag, pull string
		pullArgs        []string
	}{
		{"oci", "oci:" + filepath.Join(dir, "layout") + ":app", "oci:" + filepath.Join(dir, "layout") + ":app", nil},
		{"oci-archive", "oci-archive:" + filepath.Join(dir, "app.tar") + ":app", "oci-archive:" + filepath.Join(dir, "app.tar"), nil},
		{"docker-archive", "docker-archive:" + filepath.Join(dir, "app-docker.tar") + ":localhost/pys2i-test/build-archive:latest", "docker-archive:" + filepath.Join(dir, "app-docker.tar"), nil},
		{"docker", "docker://" + w.Registry.URL + "/pys2i-test/build-app:latest", w.Registry.URL + "/pys2i-test/build-app:latest", []string{"--tls-verify=false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := buildSnapshot(t)
			args := []string{"build", src, builder, tt.tag, "-e", "PIP_INDEX_URL=" + w.Index.URL, "-q"}
			if tt.name == "docker" {
				args = append(args, "--tls-verify=false")
			}
			r := buildRun(t, args...)
			if r.code != 0 {
				t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			buildNoLeftovers(t, before, r)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			id, err := world.Podman(ctx, buildConf(t), append(append([]string{"pull", "-q"}, tt.pullArgs...), tt.pull)...)
			if err != nil {
				t.Fatal(err)
			}
			id = strings.TrimSpace(id[strings.LastIndex(id, "\n")+1:])
			buildRmi(t, id)
			buildServe(t, id, "Hello from another transport")
		})
	}
}

// A failing assemble: its status is reported, no image is written, nothing
// is left in the store, the mount table or TMPDIR.
func TestBuildFailingAssemble(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildFlaskApp(t, "never", map[string]string{
		".s2i/bin/assemble": "#!/bin/sh\necho assembling; echo oops >&2; exit 7\n",
	})
	tag := "localhost/pys2i-test/build-failing:latest"
	buildRmi(t, tag)
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, builder, tag)
	if r.code == 0 {
		t.Fatalf("pys2i build succeeded:\n%s\n%s", r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "assemble failed with exit status 7") || !strings.Contains(r.stdout, "assembling") || !strings.Contains(r.stderr, "oops") {
		t.Errorf("want assemble's output and its status 7:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if buildImageExists(t, tag) {
		t.Error("an image was written")
	}
	buildNoLeftovers(t, before, r)
}

// FIFOs and device files in the source are left out, as before, but the
// build log names each, with its kind; the build goes on.
func TestBuildWarnsSpecialFiles(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildQuickSource(t)
	if err := syscall.Mkfifo(filepath.Join(src, "app.fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mknod(filepath.Join(src, ".s2i/null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Fatal(err)
	}
	tag := "localhost/pys2i-test/build-special:latest"
	buildRmi(t, tag)
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, builder, tag, "-q")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"warning: source file .s2i/null is a character device: left out of the build",
		"warning: source file app.fifo is a FIFO: left out of the build",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("no %q in the log:\n%s", want, r.stderr)
		}
	}
	buildNoLeftovers(t, before, r)
}

// Bad input ends with a clear message, a non-zero exit and no leftovers.
func TestBuildBadInput(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildFlaskApp(t, "never", nil)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing builder", []string{"build", src, "localhost/pys2i-test/no-such-builder:latest", "localhost/pys2i-test/build-x:latest", "--pull-policy", "never"}, "no-such-builder:latest is not in the local store"},
		{"missing builder, pulled", []string{"build", src, "localhost/pys2i-test/no-such-builder:latest", "localhost/pys2i-test/build-x:latest"}, "no-such-builder"},
		{"invalid TAG", []string{"build", src, builder, "Not/A//Valid:Tag"}, "invalid TAG"},
		{"invalid TAG transport reference", []string{"build", src, builder, "oci-archive:"}, "invalid TAG"},
		{"missing source", []string{"build", "/nonexistent/pys2i-src", builder, "localhost/pys2i-test/build-x:latest"}, "source /nonexistent/pys2i-src does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := buildSnapshot(t)
			r := buildRun(t, tt.args...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want non-zero and %q", r.code, r.stderr, tt.want)
			}
			if buildImageExists(t, "localhost/pys2i-test/build-x:latest") {
				t.Error("an image was written")
			}
			buildNoLeftovers(t, before, r)
		})
	}
}

// SIGTERM or SIGINT while assemble runs: the sandbox is killed, the
// container deleted, the exit status 128+N as other tools report it (143,
// 130), and nothing is left behind.
func TestBuildSignalDuringAssemble(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		sig := tt.sig
		t.Run(sig.String(), func(t *testing.T) {
			src := buildFlaskApp(t, "never", map[string]string{
				".s2i/bin/assemble": "#!/bin/sh\necho started\nexec sleep 300\n",
			})
			tag := "localhost/pys2i-test/build-signal:latest"
			buildRmi(t, tag)
			before := buildSnapshot(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			b := buildStartBlocked(t, ctx, "build", src, builder, tag)
			start := time.Now()
			err := b.stop(t, sig)
			if err == nil || b.cmd.ProcessState.ExitCode() != tt.code {
				t.Errorf("exit %v after %v; want status %d\n%s", err, sig, tt.code, b.stderr)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v to stop", d)
			}
			t.Logf("stopped in %v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(b.stderr.String()))
			if buildImageExists(t, tag) {
				t.Error("an image was written")
			}
			buildNoLeftovers(t, before, buildResult{tmp: b.tmp})
		})
	}
}

// An output pipe closed while the build runs (pys2i build ... 2>&1 | head)
// ends or finishes the build cleanly: SIGPIPE at pys2i's next log line
// must not kill it with its container and temp dir still there. Either the
// image was written and the exit is 0, or nothing was and it is 141.
func TestBuildOutputPipeClosed(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildFlaskApp(t, "never", map[string]string{
		".s2i/bin/assemble": "#!/bin/sh\necho started\nsleep 2\n",
	})
	tag := "localhost/pys2i-test/build-pipe:latest"
	buildRmi(t, tag)
	before := buildSnapshot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, tmp := buildCmd(t, ctx, "build", src, builder, tag)
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = wr, wr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wr.Close()
	var seen strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(seen.String(), "started\n") {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("pys2i's output ended before its assemble started: %v\n%s", err, seen.String())
		}
		seen.Write(buf[:n])
	}
	r.Close() // as head does once it has its lines
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	exists := buildImageExists(t, tag)
	t.Logf("exit %v (code %d), image written: %v", err, code, exists)
	switch {
	case code == 0 && exists, code == 141 && !exists:
	default:
		t.Errorf("exit %v (code %d), image written: %v; want 0 and an image, or 141 and none", err, code, exists)
	}
	buildNoLeftovers(t, before, buildResult{tmp: tmp})
}
