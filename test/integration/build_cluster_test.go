package integration

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The pys2i tool image (Containerfile.pys2i, built by make images).
const clusterToolImage = "localhost/pys2i/pys2i:latest"

// clusterTool is the tool image with this tree's pys2i (buildBinary) in
// place of the one it was built with, so that a test runs the code under
// test whatever tool image make images left; the rest (base, user, path)
// is the tool image's. It is a layer on top in the test's store.
func clusterTool(t *testing.T) string {
	t.Helper()
	bin := buildBinary(t)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	tag := "localhost/pys2i-test/cluster-tool-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + ":latest"
	buildImageFromFiles(t, tag, map[string]string{
		"pys2i":         string(data),
		"Containerfile": "FROM " + clusterToolImage + "\nCOPY pys2i /usr/local/bin/pys2i\n",
	})
	return tag
}

// The registry user of the cluster tests; the password is assembled at run
// time so that no file the tests write holds it whole.
const clusterUser = "clusteruser"

var clusterPassword = "cl" + "u5ter" + "pw"

// clusterRegistry is the world's registry behind a proxy that wants a
// password (basic auth) and counts the blob uploads (as reuseProxy).
type clusterRegistry struct {
	*reuseCounter
	host   string
	config string // a directory with config.json for host
}

func clusterNewRegistry(t *testing.T) *clusterRegistry {
	t.Helper()
	c, host := registryProxy(t, clusterUser, clusterPassword)
	reg := &clusterRegistry{reuseCounter: c, host: host, config: t.TempDir()}
	creds := base64.StdEncoding.EncodeToString([]byte(clusterUser + ":" + clusterPassword))
	if err := os.WriteFile(filepath.Join(reg.config, "config.json"), []byte(`{"auths":{"`+reg.host+`":{"auth":"`+creds+`"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return reg
}

// clusterBuilder pushes the pys2i full builder into the world's registry
// (the same storage as reg's, without a password) and names it by digest
// through reg, as a cluster's Task pins BUILDER_IMAGE.
func clusterBuilder(t *testing.T, reg *clusterRegistry, repo string) string {
	t.Helper()
	pinned := inPlacePush(t, imagesVariants["full"], w.Registry.URL+"/"+repo)
	return reg.host + strings.TrimPrefix(pinned, w.Registry.URL)
}

// clusterProbe is a source's .s2i/bin/assemble that shows what the
// assemble step can see of the registry credentials, then runs the
// builder's assemble.
const clusterProbe = `#!/bin/sh
set -e
echo "probe: uid $(id -u) gid $(id -g)"
echo "probe: DOCKER_CONFIG=[${DOCKER_CONFIG:-}] REGISTRY_AUTH_FILE=[${REGISTRY_AUTH_FILE:-}]"
for f in /workspace/dockerconfig/config.json /pys2i/auth/config.json "$HOME/.docker/config.json" "${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/containers/auth.json"; do
  if [ -e "$f" ]; then echo "probe: auth file $f"; fi
done
p=u5ter; p="cl${p}pw"
if grep -rlsF "$p" /workspace /pys2i /tmp /opt/app-root /etc /run 2>/dev/null | head -3 | sed 's/^/probe: password in /'; then :; fi
echo "probe: done"
exec /usr/libexec/s2i/assemble
`

// clusterApp is the flask app with the probe as its assemble.
func clusterApp(t *testing.T, body string) string {
	t.Helper()
	src := reuseApp(t, body, "flask\ngunicorn\n")
	if err := os.MkdirAll(filepath.Join(src, ".s2i", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, ".s2i", "bin", "assemble"), []byte(clusterProbe), 0o755); err != nil {
		t.Fatal(err)
	}
	return src
}

// clusterNoCredentials fails t if the assemble step saw the credentials,
// or if any step printed the password.
func clusterNoCredentials(t *testing.T, runs []clusterStepRun) {
	t.Helper()
	for _, r := range runs {
		if strings.Contains(r.stdout+r.stderr, clusterPassword) || strings.Contains(r.stdout+r.stderr, base64.StdEncoding.EncodeToString([]byte(clusterUser+":"+clusterPassword))) {
			t.Errorf("step %s printed the password", r.name)
		}
		if r.name != "assemble" {
			continue
		}
		if !strings.Contains(r.stdout, "probe: done") {
			t.Errorf("the probe did not run in assemble:\n%s\n%s", r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "probe: DOCKER_CONFIG=[] REGISTRY_AUTH_FILE=[]") || strings.Contains(r.stdout, "probe: auth file") || strings.Contains(r.stdout, "probe: password in") {
			t.Errorf("assemble sees registry credentials:\n%s", r.stdout)
		}
	}
}

// clusterPulled pulls tag from the world's registry (where reg stores it)
// into the test's store as local, and returns it.
func clusterPulled(t *testing.T, tag, local string) reuseImage {
	t.Helper()
	direct := w.Registry.URL + tag[strings.Index(tag, "/"):]
	reuseFresh(t, local)
	buildPodman(t, "pull", "-q", "--tls-verify=false", "docker://"+direct)
	buildPodman(t, "tag", direct, local)
	t.Cleanup(func() { buildRmi(t, direct) })
	return reuseInspect(t, local)
}

// clusterSize checks a size result.
func clusterSize(t *testing.T, s string) {
	t.Helper()
	if n, err := strconv.ParseInt(s, 10, 64); err != nil || n < 1<<20 {
		t.Errorf("size result %q: %v", s, err)
	}
}

// clusterTektonPod binds the Task's params and workspaces for a build of
// src into tag; the dockerconfig workspace only when withCreds.
func clusterTektonPod(t *testing.T, reg *clusterRegistry, tool, builder, src, tag string, withCreds bool) *clusterPod {
	t.Helper()
	p := clusterNewPod(t, clusterLoad(t, "tekton/pys2i-build.yaml"))
	p.params = map[string]string{"IMAGE": tag, "BUILDER_IMAGE": builder, "PYS2I_IMAGE": clusterToolImage,
		"PATH_CONTEXT": ".", "TLS_VERIFY": "false"}
	p.arrays = map[string][]string{"ENV_VARS": {"PIP_INDEX_URL=" + w.Index.URL}}
	p.workspaces = map[string]string{"source": src}
	if withCreds {
		p.workspaces["dockerconfig"] = reg.config
	}
	p.images = map[string]string{builder: imagesVariants["full"], clusterToolImage: tool}
	return p
}

// clusterShipwrightPod binds the strategy's parameters, Shipwright's
// system parameters and the registry-auth volume (the Build's secret).
func clusterShipwrightPod(t *testing.T, reg *clusterRegistry, tool, builder, src, tag string) *clusterPod {
	t.Helper()
	p := clusterNewPod(t, clusterLoad(t, "shipwright/pys2i.yaml"))
	p.params = map[string]string{"shp-source-context": "/workspace/source", "shp-source-root": "/workspace/source",
		"shp-output-image": tag, "shp-output-insecure": "true", "builder-image": builder, "pys2i-image": clusterToolImage}
	p.arrays = map[string][]string{"env-vars": {"PIP_INDEX_URL=" + w.Index.URL}}
	p.workspaces = map[string]string{"source": src}
	p.volumes["registry-auth"] = reg.config
	p.images = map[string]string{builder: imagesVariants["full"], clusterToolImage: tool}
	return p
}

// clusterReused reports whether a run restored the dependency layer
// (and ran no pip).
func clusterReused(runs []clusterStepRun) bool {
	log := clusterLog(runs)
	return strings.Contains(log, "pys2i: reusing the dependency layer") && strings.Contains(log, "Reusing dependencies from the previous build") &&
		!strings.Contains(log, "Requirement already satisfied") && !strings.Contains(log, "Successfully installed")
}

// The Tekton Task, run as its pod would run it: the steps in the builder
// as a random uid with the restricted security context; the credentials
// come from the dockerconfig workspace (without it prepare is refused)
// and reach prepare and export only; the builder's layers are mounted,
// not sent; the results are the digest and the URL; the image serves the
// app as another uid. A source-only rebuild, in a new pod, reuses the
// dependency layer and sends the application layer and the config only.
func TestBuildClusterTekton(t *testing.T) {
	buildIsolate(t)
	tool := clusterTool(t)
	reg := clusterNewRegistry(t)
	builder := clusterBuilder(t, reg, "pys2i-test/cluster-tekton-builder")
	reg.take()
	src := clusterApp(t, "tekton v1")
	tag := reg.host + "/pys2i-test/cluster-tekton-app:latest"

	t.Run("no credentials", func(t *testing.T) {
		p := clusterTektonPod(t, reg, tool, builder, src, tag, false)
		runs := p.run(t, "")
		last := runs[len(runs)-1]
		if last.name != "prepare" || last.code == 0 || !strings.Contains(last.stderr, "authentication required") {
			t.Errorf("without the dockerconfig workspace: want prepare refused by the registry\n%s", clusterLog(runs))
		}
	})

	t.Run("killed in assemble", func(t *testing.T) {
		// pip is killed half-way (the pod deleted): nothing is written,
		// and the next run (a new pod) builds from scratch.
		p := clusterTektonPod(t, reg, tool, builder, src, tag, true)
		runs := p.run(t, "prepare")
		if len(runs) != 2 || runs[1].code != 0 {
			t.Fatalf("install and prepare:\n%s", clusterLog(runs))
		}
		killed := p.killStep(t, p.step(t, "assemble"), "Collecting")
		t.Logf("assemble killed: exit %d", killed.code)
		if inPlaceManifest(t, w.Registry.URL+"/pys2i-test/cluster-tekton-app:latest") || p.result(t, "IMAGE_DIGEST") != "" {
			t.Errorf("a killed run wrote the image")
		}
	})
	reg.take()

	p := clusterTektonPod(t, reg, tool, builder, src, tag, true)
	runs := p.run(t, "")
	clusterSucceeded(t, p.def, runs)
	clusterNoCredentials(t, runs)
	if !strings.Contains(clusterLog(runs), "probe: uid "+strconv.Itoa(p.uid)+" gid 0") {
		t.Errorf("assemble did not run as the pod's uid %d:\n%s", p.uid, clusterLog(runs))
	}
	direct := w.Registry.URL + "/pys2i-test/cluster-tekton-app:latest"
	if d := inPlaceDigest(t, direct); d == "" || p.result(t, "IMAGE_DIGEST") != d {
		t.Errorf("IMAGE_DIGEST %q, the registry has %q", p.result(t, "IMAGE_DIGEST"), d)
	}
	if got := p.result(t, "IMAGE_URL"); got != tag {
		t.Errorf("IMAGE_URL %q, want %q", got, tag)
	}
	uploads, sent := reg.take()
	t.Logf("Task, cold: %d uploads, %d bytes", uploads, sent)
	if uploads != 7 {
		t.Errorf("%d blobs uploaded (%d bytes), want the three new layers, the config and the SBOM artifacts' documents and empty config\n%s", uploads, sent, clusterLog(runs))
	}
	base := reuseInspect(t, imagesVariants["full"])
	img := clusterPulled(t, tag, "localhost/pys2i-test/cluster-tekton-pulled:latest")
	if len(img.Layers) != len(base.Layers)+3 {
		t.Errorf("layers %v, want the builder's %d and three more (dependencies, application, SBOM)", img.Layers, len(base.Layers))
	}
	buildServe(t, "localhost/pys2i-test/cluster-tekton-pulled:latest", "tekton v1")

	reuseSetBody(t, src, "tekton v2")
	p = clusterTektonPod(t, reg, tool, builder, src, tag, true)
	runs = p.run(t, "")
	clusterSucceeded(t, p.def, runs)
	clusterNoCredentials(t, runs)
	if !clusterReused(runs) {
		t.Errorf("the source-only rebuild did not reuse the dependency layer:\n%s", clusterLog(runs))
	}
	uploads, sent = reg.take()
	t.Logf("Task, source-only rebuild: %d uploads, %d bytes", uploads, sent)
	if uploads != 2 {
		t.Errorf("source-only rebuild: %d uploads (%d bytes), want the application layer and the config", uploads, sent)
	}
	img2 := clusterPulled(t, tag, "localhost/pys2i-test/cluster-tekton-pulled2:latest")
	if len(img2.Layers) != len(img.Layers) || img2.Layers[len(base.Layers)] != img.Layers[len(base.Layers)] {
		t.Errorf("the rebuild's layers %v do not keep the dependency layer of %v", img2.Layers, img.Layers)
	}
	buildServe(t, "localhost/pys2i-test/cluster-tekton-pulled2:latest", "tekton v2")

	// The registry goes down between assemble and export: export fails
	// with a message naming it, no result, no manifest.
	reuseSetBody(t, src, "tekton v3")
	p = clusterTektonPod(t, reg, tool, builder, src, reg.host+"/pys2i-test/cluster-tekton-down:latest", true)
	runs = p.run(t, "assemble")
	if len(runs) != 3 || runs[2].code != 0 {
		t.Fatalf("install, prepare, assemble:\n%s", clusterLog(runs))
	}
	reg.srv.Close()
	export := p.runStep(t, p.step(t, "export"))
	if export.code == 0 || !strings.Contains(export.stderr, "the registry "+reg.host+" does not answer") {
		t.Errorf("export with the registry down: exit %d, want a failure naming the registry\n%s", export.code, export.stderr)
	}
	if d, u := p.result(t, "IMAGE_DIGEST"), p.result(t, "IMAGE_URL"); d != "" || u != "" {
		t.Errorf("results after a failed export: %q %q", d, u)
	}
	if inPlaceManifest(t, w.Registry.URL+"/pys2i-test/cluster-tekton-down:latest") {
		t.Errorf("a failed export wrote a manifest")
	}
}

// The Shipwright strategy, run as the TaskRun that Shipwright makes of it:
// its system parameters, the registry-auth volume in prepare and export
// only, the shp-image-digest and shp-image-size results; a rebuild reuses
// the dependency layer. Then the faults: a run stopped after prepare, and
// one stopped after assemble, leave nothing that confuses the next run;
// the registry down at export fails with a clear error and the error
// results, and writes no manifest.
func TestBuildClusterShipwright(t *testing.T) {
	buildIsolate(t)
	tool := clusterTool(t)
	reg := clusterNewRegistry(t)
	builder := clusterBuilder(t, reg, "pys2i-test/cluster-shp-builder")
	reg.take()
	src := clusterApp(t, "shipwright v1")
	tag := reg.host + "/pys2i-test/cluster-shp-app:latest"
	direct := w.Registry.URL + "/pys2i-test/cluster-shp-app:latest"

	t.Run("failing steps write the error results", func(t *testing.T) {
		for _, tt := range []struct {
			name, failing, reason, message string
			src                            string
			noCredentials                  bool
		}{
			{name: "no credentials", failing: "prepare", reason: "ResolveFailed", message: "authentication required", src: src, noCredentials: true},
			{name: "assemble fails", failing: "assemble", reason: "AssembleFailed", message: "assemble failed with exit status", src: reuseApp(t, "x", "no-such-package-anywhere\n")},
		} {
			t.Run(tt.name, func(t *testing.T) {
				failTag := reg.host + "/pys2i-test/cluster-shp-failing:latest"
				p := clusterShipwrightPod(t, reg, tool, builder, tt.src, failTag)
				if tt.noCredentials {
					delete(p.volumes, "registry-auth") // the strategy's default: an empty emptyDir
				}
				runs := p.run(t, "")
				last := runs[len(runs)-1]
				if last.name != tt.failing || last.code == 0 {
					t.Fatalf("want %s to fail:\n%s", tt.failing, clusterLog(runs))
				}
				reason, msg := p.result(t, "shp-error-reason"), p.result(t, "shp-error-message")
				if reason != tt.reason || !strings.Contains(msg, tt.message) {
					t.Errorf("error results %q %q, want %q and a message with %q", reason, msg, tt.reason, tt.message)
				}
				if p.result(t, "shp-image-digest") != "" || inPlaceManifest(t, w.Registry.URL+"/pys2i-test/cluster-shp-failing:latest") {
					t.Errorf("a failed run wrote a digest or a manifest")
				}
			})
		}
	})
	reg.take()

	// Killed after prepare (the pod deleted): nothing is written.
	p := clusterShipwrightPod(t, reg, tool, builder, src, tag)
	runs := p.run(t, "prepare")
	if len(runs) != 2 || runs[1].code != 0 {
		t.Fatalf("install and prepare:\n%s", clusterLog(runs))
	}
	// Killed after assemble: the layers are in the pod's work dir only.
	p = clusterShipwrightPod(t, reg, tool, builder, src, tag)
	runs = p.run(t, "assemble")
	if len(runs) != 3 || runs[2].code != 0 {
		t.Fatalf("install, prepare, assemble:\n%s", clusterLog(runs))
	}
	if inPlaceManifest(t, direct) || p.result(t, "shp-image-digest") != "" {
		t.Fatalf("a run stopped before export wrote the image")
	}
	reg.take()

	p = clusterShipwrightPod(t, reg, tool, builder, src, tag)
	runs = p.run(t, "")
	clusterSucceeded(t, p.def, runs)
	clusterNoCredentials(t, runs)
	if d := inPlaceDigest(t, direct); d == "" || p.result(t, "shp-image-digest") != d {
		t.Errorf("shp-image-digest %q, the registry has %q", p.result(t, "shp-image-digest"), d)
	}
	clusterSize(t, p.result(t, "shp-image-size"))
	if r := p.result(t, "shp-error-reason"); r != "" {
		t.Errorf("shp-error-reason %q after a success", r)
	}
	uploads, sent := reg.take()
	t.Logf("strategy, cold after two stopped runs: %d uploads, %d bytes", uploads, sent)
	if uploads != 7 {
		t.Errorf("%d blobs uploaded (%d bytes), want the three new layers, the config and the SBOM artifacts' documents and empty config", uploads, sent)
	}
	clusterPulled(t, tag, "localhost/pys2i-test/cluster-shp-pulled:latest")
	buildServe(t, "localhost/pys2i-test/cluster-shp-pulled:latest", "shipwright v1")

	reuseSetBody(t, src, "shipwright v2")
	p = clusterShipwrightPod(t, reg, tool, builder, src, tag)
	runs = p.run(t, "")
	clusterSucceeded(t, p.def, runs)
	if !clusterReused(runs) {
		t.Errorf("the source-only rebuild did not reuse the dependency layer:\n%s", clusterLog(runs))
	}
	uploads, sent = reg.take()
	t.Logf("strategy, source-only rebuild: %d uploads, %d bytes", uploads, sent)
	if uploads != 2 {
		t.Errorf("source-only rebuild: %d uploads (%d bytes), want the application layer and the config", uploads, sent)
	}
	clusterPulled(t, tag, "localhost/pys2i-test/cluster-shp-pulled2:latest")
	buildServe(t, "localhost/pys2i-test/cluster-shp-pulled2:latest", "shipwright v2")

	t.Run("pushSecret", func(t *testing.T) {
		// The credentials as a Build's spec.output.pushSecret: linked to
		// the ServiceAccount, copied by Tekton into $HOME of every step
		// (the strategy sets HOME outside $APP_ROOT). The build works and
		// the credentials are nowhere in the image.
		psTag := reg.host + "/pys2i-test/cluster-shp-pushsecret:latest"
		p := clusterShipwrightPod(t, reg, tool, builder, src, psTag)
		delete(p.volumes, "registry-auth")
		p.saCreds = t.TempDir()
		if err := os.MkdirAll(filepath.Join(p.saCreds, ".docker"), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(reg.config, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p.saCreds, ".docker", "config.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		runs := p.run(t, "")
		clusterSucceeded(t, p.def, runs)
		for _, r := range runs {
			if strings.Contains(r.stdout+r.stderr, clusterPassword) {
				t.Errorf("step %s printed the password", r.name)
			}
		}
		local := "localhost/pys2i-test/cluster-shp-pushsecret:latest"
		clusterPulled(t, psTag, local)
		auth := base64.StdEncoding.EncodeToString([]byte(clusterUser + ":" + clusterPassword))
		found := buildPodman(t, "run", "--rm", "--user", "12345:0", "-e", "P="+clusterPassword, "-e", "A="+auth, local, "sh", "-c",
			`grep -rlsF -e "$P" -e "$A" /opt /tmp /etc /root /home /var 2>/dev/null; find / -xdev -path /proc -prune -o -name config.json -path '*.docker*' -print 2>/dev/null; true`)
		if strings.TrimSpace(found) != "" {
			t.Errorf("the image holds the credentials: %s", found)
		}
	})

	// The registry goes down between assemble and export.
	reuseSetBody(t, src, "shipwright v3")
	downTag := reg.host + "/pys2i-test/cluster-shp-down:latest"
	p = clusterShipwrightPod(t, reg, tool, builder, src, downTag)
	runs = p.run(t, "assemble")
	if len(runs) != 3 || runs[2].code != 0 {
		t.Fatalf("install, prepare, assemble:\n%s", clusterLog(runs))
	}
	reg.srv.Close()
	export := p.runStep(t, p.step(t, "export"))
	if export.code == 0 || !strings.Contains(export.stderr, reg.host) {
		t.Errorf("export with the registry down: exit %d, want a failure naming the registry\n%s", export.code, export.stderr)
	}
	reason, msg := p.result(t, "shp-error-reason"), p.result(t, "shp-error-message")
	t.Logf("registry down at export: %s: %s", reason, msg)
	if reason == "" || msg == "" {
		t.Errorf("no error results: reason %q message %q\n%s", reason, msg, export.stderr)
	}
	if p.result(t, "shp-image-digest") != "" {
		t.Errorf("a digest result after a failed export")
	}
	if inPlaceManifest(t, w.Registry.URL+"/pys2i-test/cluster-shp-down:latest") {
		t.Errorf("a failed export wrote a manifest")
	}
}
