package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// inPlaceUID is the pod's user: an OpenShift-style random uid in group 0,
// with no passwd entry in the image.
const inPlaceUID = "1000660000:0"

// inPlaceRun runs pys2i build --in-place inside a container of the builder
// image, as a restricted pod runs a step: a random uid in group 0, every
// capability dropped, no_new_privs, podman's default seccomp profile, no
// user namespace, and no mounts but the source and the static pys2i
// binary, both read-only, and a results directory as Tekton gives one
// (result.results is its path here; each kind of --result is written to
// /tekton/results/KIND).
func inPlaceRun(t *testing.T, image, src string, args ...string) inPlaceResult {
	t.Helper()
	return inPlacePodRun(t, inPlacePod{image: image, src: src}, args...)
}

// inPlacePod is a step's container beyond inPlaceRun's: more volumes
// (host:container[:ro]) and environment (NAME=VALUE).
type inPlacePod struct {
	image, src   string
	volumes, env []string
}

func inPlacePodRun(t *testing.T, pod inPlacePod, args ...string) inPlaceResult {
	t.Helper()
	image, src := pod.image, pod.src
	bin := buildBinary(t)
	resultsDir := t.TempDir()
	if err := os.Chmod(resultsDir, 0o777); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := []string{"run", "--rm", "--network", "host", "--user", inPlaceUID,
		"--cap-drop=ALL", "--security-opt", "no-new-privileges",
		"-v", bin + ":/pys2i/pys2i:ro", "-v", src + ":/workspace/source:ro", "-v", resultsDir + ":/tekton/results"}
	for _, v := range pod.volumes {
		run = append(run, "-v", v)
	}
	for _, e := range pod.env {
		run = append(run, "-e", e)
	}
	run = append(run, image, "/pys2i/pys2i", "build", "--in-place", "--tls-verify=false", "/workspace/source")
	for _, k := range []string{"digest", "url", "size", "error-reason", "error-message"} {
		args = append(args, "--result", k+"=/tekton/results/"+k)
	}
	cmd := exec.CommandContext(ctx, "podman", append(run, args...)...)
	cmd.Env = append(os.Environ(), buildConf(t).Env()...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := inPlaceResult{buildResult: buildResult{stdout: out.String(), stderr: errb.String()}, results: resultsDir}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("podman run: %v", err)
	}
	return r
}

// inPlaceResult is an in-place build's output and its results directory.
type inPlaceResult struct {
	buildResult
	results string
}

// result is the --result file of kind, "" when it was not written.
func (r inPlaceResult) result(t *testing.T, kind string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.results, kind))
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// inPlacePush puts the local builder image in the registry, as a cluster
// pulls it, and returns it by digest.
func inPlacePush(t *testing.T, local, repo string) string {
	t.Helper()
	digestFile := filepath.Join(t.TempDir(), "digest")
	buildPodman(t, "push", "-q", "--tls-verify=false", "--digestfile", digestFile, local, "docker://"+repo+":latest")
	d, err := os.ReadFile(digestFile)
	if err != nil {
		t.Fatal(err)
	}
	return repo + "@" + strings.TrimSpace(string(d))
}

// inPlaceManifest reports whether the registry has a manifest for ref
// (host/repo:tag).
func inPlaceManifest(t *testing.T, ref string) bool {
	return inPlaceDigest(t, ref) != ""
}

// inPlaceDigest is the digest of ref's manifest in the registry, "" if it
// has none.
func inPlaceDigest(t *testing.T, ref string) string {
	t.Helper()
	host, rest, _ := strings.Cut(ref, "/")
	repo, tag, _ := strings.Cut(rest, ":")
	req, err := http.NewRequest(http.MethodHead, "http://"+host+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return resp.Header.Get("Docker-Content-Digest")
}

// An --in-place build of the flask app, in a restricted container of the
// pys2i full image, straight to the registry: the builder's layers are
// mounted there, not sent; the new files belong to the image's user
// whatever uid built them; a change outside $APP_ROOT is named and left
// out; the image serves the app as yet another uid.
func TestBuildInPlace(t *testing.T) {
	buildIsolate(t)
	local := imagesVariants["full"]
	counter, proxy := reuseProxy(t)
	builder := inPlacePush(t, local, proxy+"/pys2i-test/inplace-builder")
	counter.take()
	src := reuseApp(t, "in place v1", "flask\ngunicorn\n")
	script := "#!/bin/sh\nset -e\necho x > /var/tmp/pys2i-outside\n" +
		"if cat /proc/$PPID/environ >/dev/null 2>&1; then echo PARENT-ENVIRON-READABLE; fi\nexec /usr/libexec/s2i/assemble\n"
	if err := os.MkdirAll(filepath.Join(src, ".s2i", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, ".s2i", "bin", "assemble"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tag := proxy + "/pys2i-test/inplace-app:latest"
	r := inPlaceRun(t, local, src, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL)
	if r.code != 0 {
		t.Fatalf("in-place build: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "Successfully installed") {
		t.Errorf("assemble did not install:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "PARENT-ENVIRON-READABLE") {
		t.Errorf("assemble could read pys2i's environment through /proc")
	}
	if want := "warning: --in-place: assemble changed 1 paths outside /opt/app-root and /tmp, left out of the image: /var/tmp/pys2i-outside"; !strings.Contains(r.stderr, want) {
		t.Errorf("no warning %q:\n%s", want, r.stderr)
	}
	if d := inPlaceDigest(t, tag); d == "" || r.result(t, "digest") != d {
		t.Errorf("digest result %q, the registry has %q", r.result(t, "digest"), d)
	}
	if got := r.result(t, "url"); got != tag {
		t.Errorf("url result %q, want %q", got, tag)
	}
	if size, err := strconv.ParseInt(r.result(t, "size"), 10, 64); err != nil || size < 1<<20 {
		t.Errorf("size result %q: %v", r.result(t, "size"), err)
	}
	if r.result(t, "error-reason") != "" {
		t.Errorf("an error reason after a success: %q", r.result(t, "error-reason"))
	}
	uploads, bytes := counter.take()
	t.Logf("in-place build to the registry: %d uploads, %d bytes", uploads, bytes)
	if uploads != 7 {
		t.Errorf("%d blobs uploaded (%d bytes), want the three new layers, the config and the SBOM artifacts' two documents and empty config: the builder's are mounted\n%s", uploads, bytes, r.stderr)
	}

	pulled := "localhost/pys2i-test/inplace-app-pulled:latest"
	reuseFresh(t, pulled)
	buildPodman(t, "pull", "-q", "--tls-verify=false", "docker://"+tag)
	buildPodman(t, "tag", tag, pulled)
	t.Cleanup(func() { buildRmi(t, tag) })
	base, img := reuseInspect(t, local), reuseInspect(t, pulled)
	if len(img.Layers) != len(base.Layers)+3 || !slices.Equal(img.Layers[:len(base.Layers)], base.Layers) {
		t.Errorf("layers %v, want the builder's %v and three more (dependencies, application, SBOM)", img.Layers, base.Layers)
	}
	if got := img.Labels["io.openshift.s2i.build.image"]; got != builder {
		t.Errorf("io.openshift.s2i.build.image = %q, want %q", got, builder)
	}
	sbomSameAsImage(t, sbomRead(t, pulled), pulled, builder+"@"+sbomBaseDigest(t, pulled))
	owners := buildPodman(t, "run", "--rm", "--user", "4242:0", pulled, "sh", "-c",
		"stat -c '%u:%g %n' /opt/app-root/src/wsgi.py /opt/app-root/lib/python3.11/site-packages/flask; test ! -e /var/tmp/pys2i-outside && echo outside-absent")
	for _, line := range strings.Split(strings.TrimSpace(owners), "\n") {
		if line != "outside-absent" && !strings.HasPrefix(line, "1001:0 ") {
			t.Errorf("owner: %s, want 1001:0", line)
		}
	}
	if !strings.Contains(owners, "outside-absent") {
		t.Errorf("/var/tmp/pys2i-outside is in the image:\n%s", owners)
	}
	buildServe(t, pulled, "in place v1")

	// A source-only rebuild, in a new pod: the dependency layer comes back
	// from the registry, pip does not run, and only the application layer
	// and the config are sent.
	reuseSetBody(t, src, "in place v2")
	r = inPlaceRun(t, local, src, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL)
	if r.code != 0 {
		t.Fatalf("in-place rebuild: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "pys2i: reusing the dependency layer") || !strings.Contains(r.stdout, "Reusing dependencies from the previous build") ||
		strings.Contains(r.stdout, "Requirement already satisfied") {
		t.Errorf("the rebuild did not reuse the dependencies:\n%s\n%s", r.stdout, r.stderr)
	}
	uploads, bytes = counter.take()
	t.Logf("source-only in-place rebuild: %d uploads, %d bytes", uploads, bytes)
	if uploads != 2 {
		t.Errorf("source-only rebuild: %d uploads (%d bytes), want the application layer and the config\n%s", uploads, bytes, r.stderr)
	}
	second := "localhost/pys2i-test/inplace-app-pulled2:latest"
	reuseFresh(t, second)
	buildPodman(t, "pull", "-q", "--tls-verify=false", "docker://"+tag)
	buildPodman(t, "tag", tag, second)
	img2 := reuseInspect(t, second)
	if len(img2.Layers) != len(img.Layers) || img2.Layers[len(base.Layers)] != img.Layers[len(base.Layers)] {
		t.Errorf("the rebuild's layers %v do not keep the dependency layer of %v", img2.Layers, img.Layers)
	}
	buildServe(t, second, "in place v2")
}

// What --in-place refuses, and a failing assemble, which writes nothing.
func TestBuildInPlaceBadInput(t *testing.T) {
	buildIsolate(t)
	local := imagesVariants["full"]
	builder := inPlacePush(t, local, w.Registry.URL+"/pys2i-test/inplace-bad-builder")
	t.Run("refused flags", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"--runtime-image", "localhost/x"}, "--runtime-image cannot be used with --in-place"},
			{[]string{"--incremental"}, "--incremental cannot be used with --in-place"},
			{[]string{"-v", "/tmp:/cache"}, "--volume cannot be used with --in-place"},
			{[]string{"--network", "none"}, "--network none cannot be used with --in-place"},
		} {
			r := buildRun(t, append([]string{"build", "--in-place", buildQuickSource(t), builder, w.Registry.URL + "/pys2i-test/inplace-refused:latest"}, tt.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("%v: exit %d, want %q:\n%s", tt.args, r.code, tt.want, r.stderr)
			}
		}
		r := buildRun(t, "build", "--in-place", buildQuickSource(t), builder, "containers-storage:localhost/x")
		if r.code == 0 || !strings.Contains(r.stderr, "there is no local store in this mode") {
			t.Errorf("containers-storage TAG: exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("not in the builder", func(t *testing.T) {
		// Run where $APP_ROOT does not exist: the golang image.
		src := reuseApp(t, "x", "flask\n")
		r := inPlaceRun(t, w.Images["golang"].Name, src, builder, w.Registry.URL+"/pys2i-test/inplace-nowhere:latest")
		if r.code == 0 || !strings.Contains(r.stderr, "APP_ROOT /opt/app-root is not a directory here") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("credentials in HOME", func(t *testing.T) {
		// As Tekton puts a ServiceAccount's docker config into $HOME.
		auth := filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(auth, []byte(`{"auths":{"x":{"auth":"c2VjcmV0"}}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		tag := w.Registry.URL + "/pys2i-test/inplace-homecreds:latest"
		r := inPlacePodRun(t, inPlacePod{image: local, src: reuseApp(t, "x", "flask\n"), volumes: []string{auth + ":/opt/app-root/src/.docker/config.json:ro"}},
			builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL)
		if r.code == 0 || !strings.Contains(r.stderr, "holds .docker/config.json before the build") || strings.Contains(r.stdout, "Installing") {
			t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if inPlaceManifest(t, tag) {
			t.Errorf("a refused build wrote %s", tag)
		}
	})
	t.Run("failing assemble", func(t *testing.T) {
		src := reuseApp(t, "x", "no-such-package-anywhere\n")
		tag := w.Registry.URL + "/pys2i-test/inplace-failing:latest"
		r := inPlaceRun(t, local, src, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL)
		if r.code == 0 || !strings.Contains(r.stderr, "assemble failed with exit status") {
			t.Errorf("exit %d\n%s", r.code, r.stderr)
		}
		if reason, msg := r.result(t, "error-reason"), r.result(t, "error-message"); reason != "AssembleFailed" || !strings.Contains(msg, "assemble failed with exit status") {
			t.Errorf("error results %q %q", reason, msg)
		}
		if d := r.result(t, "digest"); d != "" {
			t.Errorf("a digest result after a failure: %q", d)
		}
		if inPlaceManifest(t, tag) {
			t.Errorf("a failed build wrote %s", tag)
		}
	})
	t.Run("registry fails the push", func(t *testing.T) {
		// The registry answers, then refuses every upload once assemble
		// has run: a clear error, and no manifest a later build would read.
		target := "http://" + w.Registry.URL
		failing := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/blobs/uploads/") {
				http.Error(rw, "storage is down", http.StatusServiceUnavailable)
				return
			}
			u, _ := url.Parse(target)
			httputil.NewSingleHostReverseProxy(u).ServeHTTP(rw, r)
		}))
		defer failing.Close()
		host := strings.TrimPrefix(failing.URL, "http://")
		src := reuseApp(t, "x", "flask\n")
		tag := host + "/pys2i-test/inplace-failed-push:latest"
		r := inPlaceRun(t, local, src, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL)
		if r.code == 0 || !strings.Contains(r.stderr, "503 Service Unavailable") || !strings.Contains(r.stdout, "Successfully installed") {
			t.Errorf("exit %d: want a failed push after assemble\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if inPlaceManifest(t, w.Registry.URL+"/pys2i-test/inplace-failed-push:latest") {
			t.Errorf("a failed push wrote a manifest")
		}
		if reason := r.result(t, "error-reason"); reason != "WriteFailed" {
			t.Errorf("error-reason %q, want WriteFailed", reason)
		}
	})
	t.Run("registry down at the start", func(t *testing.T) {
		src := reuseApp(t, "x", "flask\n")
		port := freePort(t)
		tag := fmt.Sprintf("127.0.0.1:%d/pys2i-test/inplace-down:latest", port)
		r := inPlaceRun(t, local, src, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL)
		if r.code == 0 || !strings.Contains(r.stderr, "does not answer") || strings.Contains(r.stdout, "Installing dependencies") {
			t.Errorf("exit %d: want a refusal before assemble\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	})
}

// The split form, as a Tekton Task runs it: prepare and export hold the
// registry's credentials (this registry asks for them), assemble has none
// and never talks to the registry; the steps pass what they learn in a
// shared work dir. A rebuild reuses the dependencies the same way; a run
// whose assemble step never ran cannot export a stale image.
func TestBuildInPlaceSteps(t *testing.T) {
	buildIsolate(t)
	local := imagesVariants["full"]
	reg, host := registryProxy(t, "pushuser", "pu5hpw")

	authDir := t.TempDir()
	creds := base64.StdEncoding.EncodeToString([]byte("pushuser:pu5hpw"))
	if err := os.WriteFile(filepath.Join(authDir, "config.json"), []byte(`{"auths":{"`+host+`":{"auth":"`+creds+`"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(authDir, 0o755); err != nil {
		t.Fatal(err)
	}
	digestFile := filepath.Join(t.TempDir(), "digest")
	buildPodman(t, "push", "-q", "--tls-verify=false", "--creds", "pushuser:pu5hpw", "--digestfile", digestFile, local, "docker://"+host+"/pys2i-test/steps-builder:latest")
	d, err := os.ReadFile(digestFile)
	if err != nil {
		t.Fatal(err)
	}
	builder := host + "/pys2i-test/steps-builder@" + strings.TrimSpace(string(d))
	tag := host + "/pys2i-test/steps-app:latest"
	src := reuseApp(t, "steps v1", "flask\ngunicorn\n")
	work := t.TempDir()
	if err := os.Chmod(work, 0o777); err != nil {
		t.Fatal(err)
	}
	var output strings.Builder
	step := func(name string) inPlaceResult {
		t.Helper()
		pod := inPlacePod{image: local, src: src, volumes: []string{work + ":/workspace/work"}}
		if name != "assemble" {
			pod.volumes = append(pod.volumes, authDir+":/workspace/dockerconfig:ro")
			pod.env = []string{"REGISTRY_AUTH_FILE=/workspace/dockerconfig/config.json"}
		}
		before := reg.requests.Load()
		r := inPlacePodRun(t, pod, builder, tag, "--step", name, "--work-dir", "/workspace/work", "-e", "PIP_INDEX_URL="+w.Index.URL)
		output.WriteString(r.stdout + r.stderr)
		if name == "assemble" && reg.requests.Load() != before {
			t.Errorf("the assemble step talked to the registry (%d requests)", reg.requests.Load()-before)
		}
		return r
	}
	run := func(want string) inPlaceResult {
		t.Helper()
		var r inPlaceResult
		for _, name := range []string{"prepare", "assemble", "export"} {
			r = step(name)
			if r.code != 0 {
				t.Fatalf("--step %s: exit %d\n%s\n%s", name, r.code, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout, want) {
				want = ""
			}
		}
		if want != "" {
			t.Errorf("no step said %q", want)
		}
		return r
	}
	r := run("Successfully installed")
	digest := r.result(t, "digest")
	if got := inPlaceDigest(t, w.Registry.URL+"/pys2i-test/steps-app:latest"); got == "" || got != digest {
		t.Errorf("the registry has %q, the digest result says %q", got, digest)
	}
	pulled := "localhost/pys2i-test/steps-app-pulled:latest"
	reuseFresh(t, pulled)
	buildPodman(t, "pull", "-q", "--tls-verify=false", "--creds", "pushuser:pu5hpw", "docker://"+tag)
	buildPodman(t, "tag", tag, pulled)
	t.Cleanup(func() { buildRmi(t, tag) })
	buildServe(t, pulled, "steps v1")

	reuseSetBody(t, src, "steps v2")
	v2 := run("Reusing dependencies from the previous build").result(t, "digest")

	// prepare for v3, then export without assemble: refused, no image.
	reuseSetBody(t, src, "steps v3")
	if r := step("prepare"); r.code != 0 {
		t.Fatalf("--step prepare: exit %d\n%s", r.code, r.stderr)
	}
	r = step("export")
	if r.code == 0 || !strings.Contains(r.stderr, "run the assemble step first") || r.result(t, "error-reason") != "WriteFailed" {
		t.Errorf("export without assemble: exit %d, reason %q\n%s", r.code, r.result(t, "error-reason"), r.stderr)
	}
	if got := inPlaceDigest(t, w.Registry.URL+"/pys2i-test/steps-app:latest"); got != v2 {
		t.Errorf("after a refused export the registry has %q, want the v2 image %q", got, v2)
	}
	if strings.Contains(output.String(), "pu5hpw") || strings.Contains(output.String(), creds) {
		t.Errorf("a step printed the credentials")
	}
}
