package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runtimeReusePip are lines pip prints when it installs anything.
// ("Collecting" alone would match assemble's "---> Collecting Django static files".)
var runtimeReusePip = []string{"Installing dependencies", "\nCollecting ", "Downloading ", "Successfully installed", "Requirement already satisfied"}

// runtimeReuseBuild builds src on builder, shipped on runtime, as tag, and
// checks that nothing is left behind.
func runtimeReuseBuild(t *testing.T, src, builder, runtime, tag string, args ...string) buildResult {
	t.Helper()
	before := buildSnapshot(t)
	r := reuseBuild(t, append([]string{src, builder, tag, "--runtime-image", runtime, "-e", "PIP_INDEX_URL=" + w.Index.URL}, args...)...)
	buildNoLeftovers(t, before, r)
	return r
}

// runtimeReused checks that build r reused the dependencies: no pip, the
// reuse lines, and the dependency layer (at index n) is the one of prev.
func runtimeReused(t *testing.T, r buildResult, prev, now reuseImage, n int) {
	t.Helper()
	if !strings.Contains(r.stdout, "---> Reusing dependencies from the previous build") || !strings.Contains(r.stderr, "reusing the dependency layer") {
		t.Errorf("no reuse:\n%s\n%s", r.stdout, r.stderr)
	}
	for _, pip := range runtimeReusePip {
		if strings.Contains(r.stdout, pip) {
			t.Errorf("pip ran (%q):\n%s", pip, r.stdout)
		}
	}
	if strings.Contains(r.stderr, "writing the dependency layer again") {
		t.Errorf("the reused layer was written again:\n%s", r.stderr)
	}
	if len(now.Layers) != n+3 || now.Layers[n] != prev.Layers[n] || now.Labels["io.pys2i.build.deps-layer"] != prev.Layers[n] {
		t.Errorf("dependency layer not reused: %v then %v, labels %v", prev.Layers, now.Layers, now.Labels)
	}
}

// The proof: build on full, ship on minimal; a source-only change
// rebuilds without pip, with the same dependency blob on the runtime
// image, the same image as a cold build of the same inputs, and a push
// that uploads the application layer and the config only. A changed
// requirements file, runtime image or builder each rebuild, saying why.
func TestBuildRuntimeImageReuse(t *testing.T) {
	buildIsolate(t)
	builder, runtime := imagesVariants["full"], imagesVariants["minimal"]
	tag := "localhost/pys2i-test/runtime-reuse:latest"
	reuseFresh(t, tag)
	src := reuseApp(t, "runtime reuse v1", "flask\ngunicorn\n")
	n := reuseBuilderLayers(t, runtime)

	first := runtimeReuseBuild(t, src, builder, runtime, tag)
	if !strings.Contains(first.stdout, "---> Installing dependencies ...") {
		t.Fatalf("the first build did not install:\n%s", first.stdout)
	}
	v1 := reuseInspect(t, tag)
	if len(v1.Layers) != n+3 || v1.Labels["io.pys2i.build.deps-layer"] != v1.Layers[n] ||
		v1.Labels["io.pys2i.build.deps-builder"] == "" || v1.Labels["io.pys2i.build.deps-artifacts"] == "" {
		t.Fatalf("first build: %d layers on the runtime image's %d, labels %v", len(v1.Layers), n, v1.Labels)
	}
	counter, proxy := reuseProxy(t)
	reg := proxy + "/pys2i-test/runtime-reuse"
	reusePush(t, tag, reg+":v1")
	counter.take()

	reuseSetBody(t, src, "runtime reuse v2")
	second := runtimeReuseBuild(t, src, builder, runtime, tag)
	v2 := reuseInspect(t, tag)
	runtimeReused(t, second, v1, v2, n)
	if v2.Layers[n+1] == v1.Layers[n+1] {
		t.Errorf("the source change is not in the image: %v", v2.Layers)
	}
	buildServe(t, tag, "runtime reuse v2")
	reusePush(t, tag, reg+":v2")
	if u, b := counter.take(); u != 2 {
		t.Errorf("push after a source-only rebuild: %d uploads (%d bytes), want the application layer and the config: 2", u, b)
	} else {
		t.Logf("push after a source-only rebuild: %d uploads, %d bytes", u, b)
	}

	// A cold build of the same inputs is the same image.
	reuseFresh(t, tag)
	cold := runtimeReuseBuild(t, src, builder, runtime, tag)
	if !strings.Contains(cold.stdout, "Successfully installed") {
		t.Fatalf("the cold build did not install:\n%s", cold.stdout)
	}
	if c := reuseInspect(t, tag); c.Digest != v2.Digest {
		t.Errorf("the rebuild that reused is %s, a cold build of the same inputs %s", v2.Digest, c.Digest)
	}

	for _, tc := range []struct {
		name, why        string
		builder, runtime string
		change           func()
	}{
		{name: "requirements", why: "the dependency inputs changed: file:requirements.txt", builder: builder, runtime: runtime,
			change: func() {
				if err := os.WriteFile(filepath.Join(src, "requirements.txt"), []byte("flask\ngunicorn\nsix\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "runtime image", why: "built on another runtime image", builder: builder, runtime: runtimeImage},
		{name: "builder", why: "installed on another builder", builder: imagesVariants["minimal"], runtime: runtime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each from an image of the inputs before the change.
			runtimeReuseBuild(t, src, builder, runtime, tag)
			if tc.change != nil {
				tc.change()
			}
			r := runtimeReuseBuild(t, src, tc.builder, tc.runtime, tag)
			if !strings.Contains(r.stderr, "not reusing the dependencies of "+tag+": ") || !strings.Contains(r.stderr, tc.why) {
				t.Errorf("the log does not say %q:\n%s", tc.why, r.stderr)
			}
			if !strings.Contains(r.stdout, "Successfully installed") {
				t.Errorf("pip did not run:\n%s", r.stdout)
			}
			buildServe(t, tag, "runtime reuse v2")
		})
	}
}

// Reuse composes with -a (the layer goes back to the copies' sources in
// the builder, here under another path) and with an assemble-runtime
// script (it runs on the runtime image with the reused layer).
func TestBuildRuntimeImageReuseCombined(t *testing.T) {
	buildIsolate(t)
	minimal := imagesVariants["minimal"]
	t.Run("runtime artifacts", func(t *testing.T) {
		tag := "localhost/pys2i-test/runtime-reuse-artifacts:latest"
		reuseFresh(t, tag)
		src := reuseApp(t, "artifacts v1", "six\n")
		args := []string{"-a", "/opt/app-root/lib:deps", "-a", "/opt/app-root/src/wsgi.py"}
		n := reuseBuilderLayers(t, minimal)
		runtimeReuseBuild(t, src, minimal, minimal, tag, args...)
		v1 := reuseInspect(t, tag)
		reuseSetBody(t, src, "artifacts v2")
		r := runtimeReuseBuild(t, src, minimal, minimal, tag, args...)
		runtimeReused(t, r, v1, reuseInspect(t, tag), n)
		out := runtimeInImage(t, tag, `ls deps/lib/python3.11/site-packages | grep -c '^six'; grep -c 'artifacts v2' wsgi.py`)
		if out != "2\n1" {
			t.Errorf("in the image: %q, want six and its dist-info under deps/lib, and the new wsgi.py", out)
		}
	})
	t.Run("incremental --rm", func(t *testing.T) {
		// --rm removes the previous image after an incremental build on
		// the runtime image too, as after a plain one.
		tag := "localhost/pys2i-test/runtime-reuse-rm:latest"
		reuseFresh(t, tag)
		src := reuseApp(t, "rm v1", "six\n")
		runtimeReuseBuild(t, src, minimal, minimal, tag, "--incremental")
		first := buildPodman(t, "image", "inspect", "--format", "{{.Id}}", tag)
		reuseSetBody(t, src, "rm v2")
		r := runtimeReuseBuild(t, src, minimal, minimal, tag, "--incremental", "--rm")
		if buildImageExists(t, first) {
			t.Errorf("--rm left the previous image %s\n%s", first, r.stderr)
		}
		if !strings.Contains(r.stderr, "removed the previous image") {
			t.Errorf("no word of the removal:\n%s", r.stderr)
		}
	})
	t.Run("assemble-runtime", func(t *testing.T) {
		rt := "localhost/pys2i-test/runtime-reuse-assemble-runtime:latest"
		buildImageFromFiles(t, rt, map[string]string{
			"Containerfile": "FROM " + minimal + "\nUSER 0\nCOPY assemble-runtime /usr/libexec/s2i/assemble-runtime\nUSER 1001\n",
			"assemble-runtime": "#!/bin/sh\nset -e\n/opt/app-root/bin/python -c 'import flask' \n" +
				`grep -o 'v[0-9]' wsgi.py > assembled-runtime` + "\n",
		})
		tag := "localhost/pys2i-test/runtime-reuse-assembled:latest"
		reuseFresh(t, tag)
		src := reuseApp(t, "assembled v1", "flask\ngunicorn\n")
		n := reuseBuilderLayers(t, rt)
		runtimeReuseBuild(t, src, minimal, rt, tag)
		v1 := reuseInspect(t, tag)
		reuseSetBody(t, src, "assembled v2")
		r := runtimeReuseBuild(t, src, minimal, rt, tag)
		v2 := reuseInspect(t, tag)
		runtimeReused(t, r, v1, v2, n)
		if out := runtimeInImage(t, tag, `cat assembled-runtime`); out != "v2" {
			t.Errorf("assemble-runtime wrote %q, want v2", out)
		}
		buildServe(t, tag, "assembled v2")
		reuseFresh(t, tag)
		runtimeReuseBuild(t, src, minimal, rt, tag)
		if c := reuseInspect(t, tag); c.Digest != v2.Digest {
			t.Errorf("the rebuild that reused is %s, a cold build of the same inputs %s", v2.Digest, c.Digest)
		}
	})
}

// Build on full, ship on minimal, straight to a registry, incremental: the
// second build takes the previous image from the registry, reuses its
// dependency layer and uploads the application layer and the config only.
func TestBuildRuntimeImageReuseRegistry(t *testing.T) {
	buildIsolate(t)
	builder, runtime := imagesVariants["full"], imagesVariants["minimal"]
	counter, proxy := reuseProxy(t)
	ref := proxy + "/pys2i-test/runtime-reuse-registry:latest"
	t.Cleanup(func() { buildRmi(t, ref) }) // the previous image, pulled
	src := reuseApp(t, "registry v1", "flask\ngunicorn\n")
	args := []string{src, builder, "docker://" + ref, "--runtime-image", runtime, "--incremental", "--tls-verify=false",
		"-e", "PIP_INDEX_URL=" + w.Index.URL}
	first := reuseBuild(t, args...)
	if !strings.Contains(first.stdout, "Successfully installed") {
		t.Fatalf("the first build did not install:\n%s\n%s", first.stdout, first.stderr)
	}
	u, b := counter.take()
	t.Logf("first build to the registry: %d uploads, %d bytes", u, b)

	reuseSetBody(t, src, "registry v2")
	second := reuseBuild(t, args...)
	if !strings.Contains(second.stdout, "---> Reusing dependencies from the previous build") || strings.Contains(second.stdout, "Successfully installed") {
		t.Errorf("the second build did not reuse:\n%s\n%s", second.stdout, second.stderr)
	}
	u, b = counter.take()
	t.Logf("source-only rebuild to the registry: %d uploads, %d bytes", u, b)
	if u != 2 {
		t.Errorf("source-only rebuild to the registry: %d uploads (%d bytes), want the application layer and the config: 2\n%s", u, b, second.stderr)
	}
	local := "localhost/pys2i-test/runtime-reuse-registry-pulled:latest"
	reuseFresh(t, local)
	buildPodman(t, "pull", "--tls-verify=false", "docker://"+ref)
	buildPodman(t, "tag", ref, local)
	buildServe(t, local, "registry v2")
}

// What assemble still runs on reused dependencies finds them in the builder
// container: collectstatic imports Django from the venv laid back there,
// and a pip install . of the app changes the venv, which the build sees:
// it writes the dependency layer again rather than ship the old app.
func TestBuildRuntimeImageReuseAppSteps(t *testing.T) {
	buildIsolate(t)
	minimal, full := imagesVariants["minimal"], imagesVariants["full"]
	copyApp := func(t *testing.T, app string) string {
		t.Helper()
		dst := t.TempDir()
		src, err := filepath.Abs(filepath.Join("..", "apps", app))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	t.Run("collectstatic", func(t *testing.T) {
		tag := "localhost/pys2i-test/runtime-reuse-django:latest"
		reuseFresh(t, tag)
		src := copyApp(t, "django-app")
		n := reuseBuilderLayers(t, minimal)
		runtimeReuseBuild(t, src, full, minimal, tag)
		v1 := reuseInspect(t, tag)
		if err := os.WriteFile(filepath.Join(src, "manage.py"), append(mustRead(t, filepath.Join(src, "manage.py")), "# v2\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runtimeReuseBuild(t, src, full, minimal, tag)
		runtimeReused(t, r, v1, reuseInspect(t, tag), n)
		if !strings.Contains(r.stdout, "---> Collecting Django static files") {
			t.Errorf("collectstatic did not run:\n%s", r.stdout)
		}
		runtimeInImage(t, tag, `test -s staticfiles/site.css; grep -q '# v2' manage.py`)
	})
	t.Run("pip install .", func(t *testing.T) {
		tag := "localhost/pys2i-test/runtime-reuse-setup-py:latest"
		reuseFresh(t, tag)
		src := copyApp(t, "setup-py")
		runtimeReuseBuild(t, src, full, minimal, tag)
		app := filepath.Join(src, "setuppyapp.py")
		if err := os.WriteFile(app, []byte(strings.Replace(string(mustRead(t, app)), `b"setup-py"`, `b"setup-py v2"`, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runtimeReuseBuild(t, src, full, minimal, tag)
		if !strings.Contains(r.stdout, "---> Reusing dependencies from the previous build") || !strings.Contains(r.stderr, "writing the dependency layer again") {
			t.Errorf("want the dependencies reused in the builder and the layer written again:\n%s\n%s", r.stdout, r.stderr)
		}
		out := runtimeInImage(t, tag, `grep -c 'setup-py v2' /opt/app-root/lib/python3.*/site-packages/setuppyapp.py`)
		if out != "1" {
			t.Errorf("the installed app in the image is not the new one: %q", out)
		}
		buildServe(t, tag, "setup-py v2")
	})
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
