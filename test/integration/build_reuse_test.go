package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// reuseApp is a WSGI flask app (the pys2i images serve wsgi.py's
// application) answering body, with requirements.
func reuseApp(t *testing.T, body, requirements string) string {
	t.Helper()
	return appDir(t, map[string]string{
		"requirements.txt": requirements,
		"wsgi.py":          fmt.Sprintf("from flask import Flask\n\napplication = Flask(__name__)\n\n\n@application.route(\"/\")\ndef index():\n    return %q\n", body),
	})
}

// reuseSetBody rewrites the app's answer: a source-only change.
func reuseSetBody(t *testing.T, src, body string) {
	t.Helper()
	code := fmt.Sprintf("from flask import Flask\n\napplication = Flask(__name__)\n\n\n@application.route(\"/\")\ndef index():\n    return %q\n", body)
	if err := os.WriteFile(filepath.Join(src, "wsgi.py"), []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
}

// reuseImage is what a test needs to know of a built image.
type reuseImage struct {
	Digest string
	Layers []string
	Labels map[string]string
}

func reuseInspect(t *testing.T, name string) reuseImage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := world.Podman(ctx, buildConf(t), "image", "inspect", "--format", `{"Digest":{{json .Digest}},"Layers":{{json .RootFS.Layers}},"Labels":{{json .Labels}}}`, name)
	if err != nil {
		t.Fatal(err)
	}
	var img reuseImage
	if err := json.Unmarshal([]byte(out), &img); err != nil {
		t.Fatalf("inspect %s: %v: %s", name, err, out)
	}
	return img
}

// reuseBuild runs pys2i build and fails the test if it fails.
func reuseBuild(t *testing.T, args ...string) buildResult {
	t.Helper()
	r := buildRun(t, append([]string{"build"}, args...)...)
	if r.code != 0 {
		t.Fatalf("pys2i build %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// reuseCounter is a proxy in front of the test registry that counts what a
// push uploads: blob uploads finished (PUT .../blobs/uploads/...) and the
// bytes sent in them; and every request it answers.
type reuseCounter struct {
	mu       sync.Mutex
	uploads  int
	bytes    int64
	requests atomic.Int64
	srv      *httptest.Server // Close it for a registry that is gone
}

func reuseProxy(t *testing.T) (*reuseCounter, string) {
	t.Helper()
	return registryProxy(t, "", "")
}

// registryProxy is reuseProxy asking for a user and password (basic auth)
// when user is not "".
func registryProxy(t *testing.T, user, password string) (*reuseCounter, string) {
	t.Helper()
	target, err := url.Parse("http://" + w.Registry.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := &reuseCounter{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		if u, p, ok := r.BasicAuth(); user != "" && (!ok || u != user || p != password) {
			rw.Header().Set("WWW-Authenticate", `Basic realm="pys2i-test"`)
			http.Error(rw, "authentication required", http.StatusUnauthorized)
			return
		}
		if strings.Contains(r.URL.Path, "/blobs/uploads/") && (r.Method == http.MethodPatch || r.Method == http.MethodPut) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(rw, err.Error(), http.StatusBadRequest)
				return
			}
			c.mu.Lock()
			c.bytes += int64(len(body))
			if r.Method == http.MethodPut {
				c.uploads++
			}
			c.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	c.srv = srv
	return c, strings.TrimPrefix(srv.URL, "http://")
}

func (c *reuseCounter) take() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, b := c.uploads, c.bytes
	c.uploads, c.bytes = 0, 0
	return u, b
}

// reusePush pushes a local image to the registry at dest with podman (the
// same containers/image copy as pys2i's).
func reusePush(t *testing.T, name, dest string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := world.Podman(ctx, buildConf(t), "push", "--tls-verify=false", name, "docker://"+dest); err != nil {
		t.Fatal(err)
	}
}

// reuseFresh removes name now (if it is there) and when the test ends.
func reuseFresh(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	world.Podman(ctx, buildConf(t), "rmi", "-f", name)
	buildRmi(t, name)
}

// reuseBuilderLayers is how many layers the builder has.
func reuseBuilderLayers(t *testing.T, builder string) int {
	t.Helper()
	return len(reuseInspect(t, builder).Layers)
}

// The heart of the issue: after a source-only change, the rebuild lays the
// previous dependency layer in place and runs no pip; the dependency layer
// keeps its digest, the image still serves, and a push uploads one layer.
func TestBuildReuseSourceOnly(t *testing.T) {
	buildIsolate(t)
	builder := imagesVariants["minimal"]
	tag := "localhost/pys2i-test/reuse-source:latest"
	reuseFresh(t, tag)
	src := reuseApp(t, "reuse v1", "flask\ngunicorn\n")
	index := "PIP_INDEX_URL=" + w.Index.URL

	first := reuseBuild(t, src, builder, tag, "-e", index)
	if !strings.Contains(first.stdout, "---> Installing dependencies ...") {
		t.Fatalf("the first build did not install:\n%s", first.stdout)
	}
	v1 := reuseInspect(t, tag)
	n := reuseBuilderLayers(t, builder)
	if len(v1.Layers) != n+3 || v1.Labels["io.pys2i.build.deps-layer"] != v1.Layers[n] || v1.Labels["io.pys2i.build.deps-fingerprint"] == "" {
		t.Fatalf("first build: %d layers on the builder's %d, labels %v", len(v1.Layers), n, v1.Labels)
	}
	if strings.Contains(v1.Labels["io.pys2i.build.deps-fingerprint"], w.Index.URL) {
		t.Errorf("the fingerprint label carries a variable's value: %s", v1.Labels["io.pys2i.build.deps-fingerprint"])
	}
	counter, proxy := reuseProxy(t)
	reg := proxy + "/pys2i-test/reuse-source"
	reusePush(t, tag, reg+":v1")
	u, b := counter.take()
	t.Logf("first push: %d uploads, %d bytes", u, b)
	if u != n+4 {
		t.Errorf("first push: %d uploads (%d bytes), want every layer and the config: %d", u, b, n+4)
	}

	reuseSetBody(t, src, "reuse v2")
	before := buildSnapshot(t)
	second := reuseBuild(t, src, builder, tag, "-e", index)
	buildNoLeftovers(t, before, second)
	if !strings.Contains(second.stdout, "---> Reusing dependencies from the previous build") {
		t.Errorf("no reuse line:\n%s", second.stdout)
	}
	for _, pip := range []string{"Installing dependencies", "Collecting", "Successfully installed", "Requirement already satisfied", "Upgrading pip"} {
		if strings.Contains(second.stdout, pip) {
			t.Errorf("pip ran (%q):\n%s", pip, second.stdout)
		}
	}
	if !strings.Contains(second.stderr, "reusing the dependency layer") {
		t.Errorf("no reuse in the log:\n%s", second.stderr)
	}
	v2 := reuseInspect(t, tag)
	if len(v2.Layers) != n+3 || v2.Layers[n] != v1.Layers[n] {
		t.Errorf("dependency layer not reused: %v then %v", v1.Layers, v2.Layers)
	}
	if v2.Layers[n+1] == v1.Layers[n+1] || v2.Digest == v1.Digest {
		t.Errorf("the source change is not in the image: %v", v2.Layers)
	}
	if v2.Labels["io.pys2i.build.deps-layer"] != v1.Layers[n] {
		t.Errorf("the rebuild does not label its dependency layer: %v", v2.Labels)
	}
	buildServe(t, tag, "reuse v2")

	reusePush(t, tag, reg+":v2")
	u, b = counter.take()
	t.Logf("push after a source-only rebuild: %d uploads, %d bytes", u, b)
	if u != 2 {
		t.Errorf("push after a source-only rebuild: %d uploads (%d bytes), want the application layer and the config: 2", u, b)
	}

	// pys2i writing to the registry itself (an incremental build from the
	// local image to a docker:// TAG) also uploads only the new layer: the
	// reused dependency layer is served from the store, and the registry
	// already has it.
	// pys2i compresses each layer before it pushes and asks the registry
	// for that digest (podman's gzip of v1 is not byte-equal to
	// containers/image's pgzip, so the first pys2i write uploads the
	// layers again); the write after a source change then uploads one.
	reuseBuild(t, src, builder, "docker://"+reg+":v2-pys2i", "-e", index, "--tls-verify=false", "--incremental", "--incremental-from", tag)
	u, b = counter.take()
	t.Logf("pys2i build to the registry, first: %d uploads, %d bytes", u, b)
	// (the SBOM's artifacts go to the registry for the first time too)
	reuseSetBody(t, src, "reuse v3")
	pushed := reuseBuild(t, src, builder, "docker://"+reg+":v3", "-e", index, "--tls-verify=false", "--incremental", "--incremental-from", tag)
	if !strings.Contains(pushed.stdout, "Reusing dependencies") {
		t.Errorf("the build to the registry did not reuse:\n%s\n%s", pushed.stdout, pushed.stderr)
	}
	u, b = counter.take()
	t.Logf("pys2i build to the registry after a source-only change: %d uploads, %d bytes", u, b)
	if u != 2 {
		t.Errorf("pys2i build to the registry: %d uploads (%d bytes), want the application layer and the config: 2\n%s", u, b, pushed.stderr)
	}
	reuseSetBody(t, src, "reuse v2")

	// And a third build of the same source reuses the layer again and gives
	// the same image: reuse is stable, not a one-off.
	third := reuseBuild(t, src, builder, tag, "-e", index)
	if !strings.Contains(third.stdout, "Reusing dependencies") {
		t.Errorf("third build did not reuse:\n%s", third.stdout)
	}
	if v3 := reuseInspect(t, tag); v3.Digest != v2.Digest {
		t.Errorf("same source, other image: %s then %s", v2.Digest, v3.Digest)
	}
}

// reuseCacheDir is the host pip cache pys2i keeps for tag (imagebuild/cache.go).
func reuseCacheDir(t *testing.T, tag string) string {
	sum := sha256.Sum256([]byte(tag))
	return filepath.Join(filepath.Dir(buildGraphRoot(t)), "pys2i-cache", "pip", hex.EncodeToString(sum[:8]))
}

// A dependency change reinstalls, from pip's cache kept between builds: a
// wheel built from an sdist the first time is not built again.
func TestBuildReuseDependencyChange(t *testing.T) {
	buildIsolate(t)
	builder := imagesVariants["minimal"]
	tag := "localhost/pys2i-test/reuse-deps:latest"
	reuseFresh(t, tag)
	if err := os.RemoveAll(reuseCacheDir(t, tag)); err != nil {
		t.Fatal(err)
	}
	src := reuseApp(t, "deps", "flask\ngunicorn\n")
	// gunicorn from its sdist: a wheel pip builds and caches.
	env := []string{"-e", "PIP_INDEX_URL=" + w.Index.URL, "-e", "PIP_NO_BINARY=gunicorn", "-e", "PIP_USE_FEATURE=no-binary-enable-wheel-cache"}
	first := reuseBuild(t, append([]string{src, builder, tag}, env...)...)
	if !strings.Contains(first.stdout, "Building wheel for gunicorn") {
		t.Fatalf("the first build did not build gunicorn's wheel:\n%s", first.stdout)
	}
	v1 := reuseInspect(t, tag)
	n := reuseBuilderLayers(t, builder)

	if err := os.WriteFile(filepath.Join(src, "requirements.txt"), []byte("flask\ngunicorn\nsix\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := buildSnapshot(t)
	second := reuseBuild(t, append([]string{src, builder, tag}, env...)...)
	buildNoLeftovers(t, before, second)
	if !strings.Contains(second.stderr, "not reusing the dependencies of "+tag+": the dependency inputs changed: file:requirements.txt") {
		t.Errorf("no clear reason in the log:\n%s", second.stderr)
	}
	if strings.Contains(second.stdout, "Reusing dependencies") || !strings.Contains(second.stdout, "Successfully installed") {
		t.Errorf("dependencies not reinstalled:\n%s", second.stdout)
	}
	if strings.Contains(second.stdout, "Building wheel for gunicorn") || !strings.Contains(second.stdout, "Using cached gunicorn-") {
		t.Errorf("gunicorn's wheel was built again instead of taken from the cache:\n%s", second.stdout)
	}
	v2 := reuseInspect(t, tag)
	if v2.Layers[n] == v1.Layers[n] {
		t.Errorf("the dependency layer did not change with the dependencies")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", "--user", "12345:0", tag, "sh", "-c",
		"python -c 'import six, gunicorn; print(six.__version__)'; ls /tmp/pys2i")
	if err != nil || !strings.HasPrefix(out, newest(t, "six")) || strings.Contains(out, "pip-cache") {
		t.Errorf("in the image (six installed, no pip cache): %v\n%s", err, out)
	}
}

// A previous image made on another builder is never the base: the log says
// why, and pip runs.
func TestBuildReuseOtherBuilder(t *testing.T) {
	buildIsolate(t)
	tag := "localhost/pys2i-test/reuse-other:latest"
	reuseFresh(t, tag)
	src := reuseApp(t, "other", "flask\ngunicorn\n")
	index := "PIP_INDEX_URL=" + w.Index.URL
	reuseBuild(t, src, imagesVariants["minimal"], tag, "-e", index)
	r := reuseBuild(t, src, imagesVariants["full"], tag, "-e", index)
	if !strings.Contains(r.stderr, "not reusing the dependencies of "+tag+": the previous image was built on another builder") {
		t.Errorf("no clear reason in the log:\n%s", r.stderr)
	}
	if strings.Contains(r.stdout, "Reusing dependencies") || !strings.Contains(r.stdout, "Successfully installed") {
		t.Errorf("pip did not run:\n%s", r.stdout)
	}
}

// A build that fails after laying the dependency layer in place writes no
// image and leaves no layer, container, mount or temp file behind.
func TestBuildReuseFailing(t *testing.T) {
	buildIsolate(t)
	builder := imagesVariants["minimal"]
	tag := "localhost/pys2i-test/reuse-failing:latest"
	reuseFresh(t, tag)
	src := reuseApp(t, "failing", "flask\ngunicorn\n")
	index := "PIP_INDEX_URL=" + w.Index.URL
	reuseBuild(t, src, builder, tag, "-e", index)
	v1 := reuseInspect(t, tag)
	// The image's assemble runs (and reuses), then the source's wrapper fails.
	if err := os.MkdirAll(filepath.Join(src, ".s2i", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, ".s2i", "bin", "assemble"), []byte("#!/bin/sh\n/usr/libexec/s2i/assemble || exit\necho failing on purpose\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, builder, tag, "-e", index)
	if r.code == 0 || !strings.Contains(r.stdout, "Reusing dependencies") || !strings.Contains(r.stderr, "exit status 7") {
		t.Errorf("exit %d, want the reusing assemble to fail with 7:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	buildNoLeftovers(t, before, r)
	if v := reuseInspect(t, tag); v.Digest != v1.Digest {
		t.Errorf("a failed build changed %s", tag)
	}
}
