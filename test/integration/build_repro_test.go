package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// The same source, builder and index give the same image, twice: layers
// clamped to SOURCE_DATE_EPOCH, hash-based pycs, a fixed creation time. A
// rebuild that reuses the dependency layer gives that image too.
func TestBuildReproducibleDigest(t *testing.T) {
	buildIsolate(t)
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
	out, err := world.Podman(ctx, buildConf(t), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Extensions and programs that pip compiles from an sdist are reproducible
// too. pip builds mod_wsgi and uwsgi in a random directory, which gcc would
// write into the debug info (and the linker into its string tables' order
// and the build ID); assemble runs the compilers through the in-image
// binary's wrapper, which maps pip's directories to fixed placeholders as
// they compile (package buildpaths), so nothing is left to scrub after.
// pip's cache is off, so both builds compile; the output image is removed
// before each, so neither reuses the other's layer.
func TestBuildReproducibleDigestCompiled(t *testing.T) {
	buildIsolate(t)
	modWSGI, err := filepath.Abs(filepath.Join("..", "apps", "mod-wsgi"))
	if err != nil {
		t.Fatal(err)
	}
	uwsgi := appDir(t, map[string]string{
		"requirements.txt": "uwsgi\n",
		"wsgi.py":          "def application(environ, start_response):\n    start_response('200 OK', [])\n    return [b'uwsgi']\n",
	})
	for _, tc := range []struct {
		name, src, compiled, file, check string
	}{
		{"mod_wsgi", modWSGI, "Running setup.py install for mod_wsgi: finished with status 'done'",
			"lib/python3.11/site-packages/mod_wsgi/server/mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so",
			"mod_wsgi-express module-config | grep -c LoadModule"},
		{"uwsgi", uwsgi, "Running setup.py install for uwsgi: finished with status 'done'", "bin/uwsgi",
			"uwsgi --version >/dev/null && echo 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := "localhost/pys2i-test/repro-" + tc.name + ":latest"
			var digests []string
			for i := 0; i < 2; i++ {
				reuseFresh(t, tag)
				before := buildSnapshot(t)
				r := buildRun(t, "build", tc.src, imagesVariants["full"], tag, "-e", "PIP_INDEX_URL="+w.Index.URL, "-e", "PYS2I_NO_CACHE=1")
				buildNoLeftovers(t, before, r)
				if r.code != 0 {
					t.Fatalf("build %d: exit %d\n%s\n%s", i+1, r.code, r.stdout, r.stderr)
				}
				if strings.Contains(r.stdout, "Reusing dependencies") || !strings.Contains(r.stdout, tc.compiled) {
					t.Fatalf("build %d did not compile %s:\n%s\n%s", i+1, tc.name, r.stdout, r.stderr)
				}
				// The wrapper left nothing to scrub.
				if strings.Contains(r.stdout, "Normalized pip's temporary build paths") || strings.Contains(r.stdout, "Could not") {
					t.Errorf("build %d: the compiler wrapper did not map pip's directories:\n%s", i+1, r.stdout)
				}
				digests = append(digests, reuseInspect(t, tag).Digest)
			}
			if digests[0] != digests[1] {
				t.Errorf("two builds from the sdist, two digests: %v", digests)
			}
			// The file in the image names the placeholder, not a random
			// directory, and still works (the serving tests cover HTTP).
			out := runtimeInImage(t, tag, "grep -c 'pip-install-XXXXXXXX/[a-z_-]*_00000000000000000000000000000000' /opt/app-root/"+tc.file+"\n"+tc.check)
			if f := strings.Fields(out); len(f) != 2 || f[0] == "0" || f[1] != "1" {
				t.Errorf("in the image:\n%s", out)
			}
		})
	}
}

// With CC set by the build, the wrapper stays out of it; assemble then
// scrubs pip's directory out of the extension after the install (the same
// bytes twice are then likely, not certain: see package buildpaths).
func TestBuildScrubsWhenCCIsSet(t *testing.T) {
	buildIsolate(t)
	src, err := filepath.Abs(filepath.Join("..", "apps", "mod-wsgi"))
	if err != nil {
		t.Fatal(err)
	}
	tag := "localhost/pys2i-test/repro-cc-set:latest"
	reuseFresh(t, tag)
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, imagesVariants["full"], tag, "-e", "PIP_INDEX_URL="+w.Index.URL, "-e", "PYS2I_NO_CACHE=1",
		"-e", "CC=x86_64-linux-gnu-gcc")
	buildNoLeftovers(t, before, r)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	const so = "lib/python3.11/site-packages/mod_wsgi/server/mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so"
	if !strings.Contains(r.stdout, "---> Normalized pip's temporary build paths in 1 compiled file(s) (SOURCE_DATE_EPOCH is set): "+so) {
		t.Fatalf("no scrubbing after the install:\n%s", r.stdout)
	}
	out := runtimeInImage(t, tag, "grep -c 'pip-install-XXXXXXXX/mod-wsgi_00000000000000000000000000000000' /opt/app-root/"+so+
		"\nmod_wsgi-express module-config | grep -c LoadModule")
	if f := strings.Fields(out); len(f) != 2 || f[0] == "0" || f[1] != "1" {
		t.Errorf("in the image:\n%s", out)
	}
}
