package integration

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// runtimeImage is the pys2i runtime image (make images): the minimal
// variant on python-minimal + apache2-bin and libpython3.11.
const runtimeImage = "localhost/pys2i/python-runtime:latest"

// runtimeBuild runs pys2i build of test/apps/APP on builder with args,
// checking that nothing is left behind whatever the outcome.
func runtimeBuild(t *testing.T, app, builder, tag string, args ...string) buildResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, img := range []string{builder, runtimeImage, imagesVariants["minimal"]} {
		imagesRequire(t, ctx, img)
	}
	src, err := filepath.Abs(filepath.Join("..", "apps", app))
	if err != nil {
		t.Fatal(err)
	}
	buildRmi(t, tag)
	before := buildSnapshot(t)
	r := buildRun(t, append([]string{"build", src, builder, tag, "-e", "PIP_INDEX_URL=" + w.Index.URL}, args...)...)
	buildNoLeftovers(t, before, r)
	return r
}

// runtimeInImage runs a shell script in image and returns its output.
func runtimeInImage(t *testing.T, image, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", "--user", "12345:0", image, "sh", "-ec", script)
	if err != nil {
		t.Fatalf("in %s: %v\n%s", image, err, out)
	}
	return out
}

func runtimeInspect(t *testing.T, image, format string) string {
	t.Helper()
	out, err := world.Podman(context.Background(), buildConf(t), "image", "inspect", "--format", format, image)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The proof: a mod_wsgi app compiled on the full image, shipped on
// the runtime image (no compiler there), serves HTTP as a random uid. The
// image is the runtime image's layers plus the dependency and app layers,
// with its config (user, workdir) and s2i's labels.
func TestBuildRuntimeImageModWSGI(t *testing.T) {
	buildIsolate(t)
	tag := "localhost/pys2i-test/runtime-mod-wsgi:latest"
	r := runtimeBuild(t, "mod-wsgi", imagesVariants["full"], tag, "--runtime-image", runtimeImage)
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr+r.stdout, "copying /opt/app-root to /opt/app-root ($APP_ROOT)") {
		t.Errorf("no copy line in the output:\n%s", r.stderr)
	}
	buildServe(t, tag, "mod-wsgi")

	base, err := strconv.Atoi(runtimeInspect(t, runtimeImage, "{{len .RootFS.Layers}}"))
	if err != nil {
		t.Fatal(err)
	}
	if n := runtimeInspect(t, tag, "{{len .RootFS.Layers}}"); n != strconv.Itoa(base+3) {
		t.Errorf("%s layers, want the runtime image's %d + 3 (dependencies, application, SBOM)", n, base)
	}
	got := runtimeInspect(t, tag, `{{.Config.User}}|{{.Config.WorkingDir}}|{{.Config.Cmd}}|{{index .Config.Labels "io.openshift.s2i.build.image"}}|{{index .Config.Labels "name"}}`)
	if want := "1001|/opt/app-root/src|[/usr/libexec/s2i/run]|" + imagesVariants["full"] + "|pys2i/python-minimal"; got != want {
		t.Errorf("config %q, want %q", got, want)
	}
	out := runtimeInImage(t, tag, `! command -v gcc; test -x /usr/sbin/apache2; stat -c '%u:%g %a' /opt/app-root/src/wsgi.py /opt/app-root/lib/python3.11/site-packages/mod_wsgi/server/mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so; readlink /opt/app-root/bin/python3`)
	if want := "1001:0 664\n1001:0 775\n/usr/bin/python3"; !strings.HasSuffix(out, want) {
		t.Errorf("in the image:\n%s\nwant the end:\n%s", out, want)
	}
}

// Without libpython3.11 the minimal image cannot load mod_wsgi's module,
// and without apache2-bin there is no server to load it into: the build
// fails before writing anything, naming what is missing, what needs it and
// the builder's package.
func TestBuildRuntimeImageMissingLibrary(t *testing.T) {
	buildIsolate(t)
	// python-minimal + libpython3.11 (taken from the full image: no apt needed), no apache2-bin.
	libpython := "localhost/pys2i-test/runtime-libpython-only:latest"
	buildImageFromFiles(t, libpython, map[string]string{"Containerfile": "FROM " + imagesVariants["minimal"] + "\nCOPY --from=" + imagesVariants["full"] +
		" /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0\n"})
	for _, tc := range []struct {
		name, runtime string
		want          []string
	}{
		{"minimal", imagesVariants["minimal"], []string{
			"runtime image lacks libpython3.11.so.1.0 needed by /opt/app-root/lib/python3.11/site-packages/mod_wsgi/server/mod_wsgi-py311.cpython-311-x86_64-linux-gnu.so: install libpython3.11 (the builder's package with /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0)",
			"RUN apt-get install -y apache2-bin libpython3.11",
		}},
		// mod_wsgi 6 (the index's newest) writes apxs_config.py into mod_wsgi/express.
		{"no apache2-bin", libpython, []string{
			"runtime image lacks /usr/sbin/apache2, the web server that mod_wsgi-express starts, named in /opt/app-root/lib/python3.11/site-packages/mod_wsgi/express/apxs_config.py (HTTPD): install apache2-bin",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := "localhost/pys2i-test/runtime-mod-wsgi-missing:latest"
			r := runtimeBuild(t, "mod-wsgi", imagesVariants["full"], tag, "--runtime-image", tc.runtime)
			if r.code == 0 {
				t.Fatalf("build succeeded on %s:\n%s", tc.runtime, r.stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if strings.Contains(tc.name, "apache2") && strings.Contains(r.stderr, "libpython3.11.so.1.0") {
				t.Errorf("libpython3.11 is in %s, yet reported missing:\n%s", tc.runtime, r.stderr)
			}
			if buildImageExists(t, tag) {
				t.Errorf("%s was written by a failed build", tag)
			}
		})
	}
}

// The seed's main case without a Containerfile: flask + gunicorn installed
// on the full image, shipped on the minimal one.
func TestBuildRuntimeImageFlaskOnMinimal(t *testing.T) {
	buildIsolate(t)
	tag := "localhost/pys2i-test/runtime-wsgi-flask:latest"
	r := runtimeBuild(t, "wsgi-flask", imagesVariants["full"], tag, "--runtime-image", imagesVariants["minimal"])
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	buildServe(t, tag, "wsgi-flask")
	runtimeInImage(t, tag, `! command -v gcc; test -x /opt/app-root/bin/gunicorn`)

	// What the runtime image has already, byte for byte (the venv's pip),
	// is left out of the new layers: its files keep the runtime image's
	// times, not the clamped epoch of copied files (flask's), and its
	// cached bytecode stays true to its source.
	out := runtimeInImage(t, tag, `cd /opt/app-root/lib/python3.11/site-packages
stat -c '%Y' pip/__init__.py flask/__init__.py
python - <<'EOF'
import struct
data = open("pip/__pycache__/__init__.cpython-311.pyc", "rb").read(16)
flags, mtime = struct.unpack("<II", data[4:12])
import os
print("hash" if flags & 1 else ("fresh" if mtime == int(os.stat("pip/__init__.py").st_mtime) else "stale"))
EOF`)
	f := strings.Fields(out)
	if len(f) != 3 || f[0] == "315532800" || f[1] != "315532800" || f[2] == "stale" {
		t.Errorf("pip/__init__.py mtime, flask/__init__.py mtime, pip's pyc: %q; want pip's from the runtime image, flask's copied, the pyc fresh", out)
	}
	// So the new layers hold less than pip alone.
	sizes := strings.Fields(buildPodman(t, "image", "inspect", "--format", "{{.Size}}", tag, imagesVariants["minimal"]))
	pip := strings.Fields(runtimeInImage(t, tag, `du -sb /opt/app-root/lib/python3.11/site-packages/pip`))
	if len(sizes) != 2 || len(pip) != 2 {
		t.Fatalf("sizes %q, pip %q", sizes, pip)
	}
	image, _ := strconv.ParseInt(sizes[0], 10, 64)
	base, _ := strconv.ParseInt(sizes[1], 10, 64)
	pipBytes, _ := strconv.ParseInt(pip[0], 10, 64)
	if added := image - base; added <= 0 || pipBytes <= 0 || added >= pipBytes {
		t.Errorf("the build added %d bytes to the runtime image; pip alone is %d", added, pipBytes)
	} else {
		t.Logf("added %d bytes to the runtime image (pip alone: %d)", added, pipBytes)
	}
}

// -a lists what is copied, under the runtime image's WORKDIR (dst
// relative to it), owners kept; nothing else of the builder comes along.
// The runtime image's assemble-input-files label does the same when there
// is no -a.
func TestBuildRuntimeImageArtifacts(t *testing.T) {
	buildIsolate(t)
	t.Run("flag", func(t *testing.T) {
		tag := "localhost/pys2i-test/runtime-artifacts:latest"
		r := runtimeBuild(t, "app-py", imagesVariants["minimal"], tag, "--runtime-image", imagesVariants["minimal"],
			"-a", "/opt/app-root/src/app.py", "-a", "/opt/app-root/src/app.py:copy;/opt/app-root/bin/python:bin")
		if r.code != 0 {
			t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		buildServe(t, tag, "app-py")
		out := runtimeInImage(t, tag, `stat -c '%u %n' app.py copy/app.py; readlink bin/python; test ! -e requirements.txt`)
		if want := "1001 app.py\n1001 copy/app.py\npython3"; out != want {
			t.Errorf("in the image:\n%s\nwant:\n%s", out, want)
		}
	})
	t.Run("label", func(t *testing.T) {
		rt := "localhost/pys2i-test/runtime-labelled:latest"
		buildImageFromFiles(t, rt, map[string]string{"Containerfile": "FROM " + imagesVariants["minimal"] +
			"\nLABEL io.openshift.s2i.assemble-input-files=\"/opt/app-root/src/app.py:from-label\"\n"})
		tag := "localhost/pys2i-test/runtime-artifacts-label:latest"
		r := runtimeBuild(t, "app-py", imagesVariants["minimal"], tag, "--runtime-image", rt)
		if r.code != 0 {
			t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		if out := runtimeInImage(t, tag, `ls from-label; test ! -e app.py`); out != "app.py" {
			t.Errorf("in the image: %q, want app.py only under from-label", out)
		}
	})
}

// Bad input: a -a source the builder lacks after assemble, a relative one,
// a runtime image that is not there with --runtime-pull-policy never.
func TestBuildRuntimeImageBadInput(t *testing.T) {
	buildIsolate(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing artifact", []string{"--runtime-image", imagesVariants["minimal"], "-a", "/opt/app-root/src/nope.py"},
			"runtime artifact /opt/app-root/src/nope.py (from --runtime-artifact): no such file or directory in the builder after assemble"},
		{"relative artifact", []string{"--runtime-image", imagesVariants["minimal"], "-a", "opt/app-root"},
			`invalid --runtime-artifact "opt/app-root": the source must be an absolute path`},
		{"runtime image not pulled", []string{"--runtime-image", "localhost/pys2i-test/no-such-runtime:latest", "--runtime-pull-policy", "never"},
			"runtime image: image localhost/pys2i-test/no-such-runtime:latest is not in the local store, and the pull policy is never"},
		// The builder's user (1001) is allowed; the runtime image's (none: root) is not.
		{"runtime image user not allowed", []string{"--runtime-image", "localhost/pys2i-test/python-minimal:latest", "--allowed-uids", "1000-"},
			`image "localhost/pys2i-test/python-minimal:latest" must specify a user that is numeric and within the range of allowed users`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := "localhost/pys2i-test/runtime-bad-input:latest"
			r := runtimeBuild(t, "app-py", imagesVariants["minimal"], tag, tc.args...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, tc.want, r.stderr)
			}
			if buildImageExists(t, tag) {
				t.Errorf("%s was written by a failed build", tag)
			}
		})
	}
}

// A runtime image with an assemble-runtime script: it runs s2i's way on a
// container of the runtime image, after the artifacts are laid there, as
// the io.openshift.s2i.assemble-runtime-user label's user or
// --assemble-runtime-user, in WORKDIR; what it writes is in the image. A
// failing one fails the build: no image, nothing left.
func TestBuildRuntimeImageAssembleRuntime(t *testing.T) {
	buildIsolate(t)
	rt := "localhost/pys2i-test/runtime-assemble-runtime:latest"
	buildImageFromFiles(t, rt, map[string]string{
		"Containerfile": "FROM " + imagesVariants["minimal"] + "\nUSER 0\n" +
			"COPY assemble-runtime /usr/libexec/s2i/assemble-runtime\n" +
			"LABEL io.openshift.s2i.assemble-runtime-user=1001\nUSER 1001\n",
		"assemble-runtime": "#!/bin/sh\nset -e\ntest -f app.py\n" +
			`[ -z "$FAIL_ASSEMBLE_RUNTIME" ] || { echo "assemble-runtime: failing as asked" >&2; exit 3; }` + "\n" +
			`echo "$(id -u) $(pwd)" > assembled-runtime` + "\n",
	})
	for _, tc := range []struct {
		name string
		args []string
		want string // in the image's assembled-runtime
		fail string
	}{
		{name: "label user", want: "1001 /opt/app-root/src"},
		{name: "flag user", args: []string{"--assemble-runtime-user", "0"}, want: "0 /opt/app-root/src"},
		{name: "failing", args: []string{"-e", "FAIL_ASSEMBLE_RUNTIME=1"}, fail: "assemble-runtime failed with exit status 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := "localhost/pys2i-test/runtime-assembled:latest"
			r := runtimeBuild(t, "app-py", imagesVariants["minimal"], tag, append([]string{"--runtime-image", rt}, tc.args...)...)
			if tc.fail != "" {
				if r.code == 0 || !strings.Contains(r.stderr, tc.fail) || !strings.Contains(r.stderr, "failing as asked") {
					t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, tc.fail, r.stderr)
				}
				if buildImageExists(t, tag) {
					t.Errorf("%s was written by a failed build", tag)
				}
				return
			}
			if r.code != 0 {
				t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if out := runtimeInImage(t, tag, `cat assembled-runtime`); out != tc.want {
				t.Errorf("assembled-runtime: %q, want %q", out, tc.want)
			}
			buildServe(t, tag, "app-py")
		})
	}
}

// numpy's wheel ships its BLAS/LAPACK in numpy.libs, found through the
// extensions' RPATH $ORIGIN/../numpy.libs: the check finds them in the
// artifacts, and the app runs on the minimal image.
func TestBuildRuntimeImageBundledLibraries(t *testing.T) {
	buildIsolate(t)
	tag := "localhost/pys2i-test/runtime-numpy:latest"
	r := runtimeBuild(t, "numpy-app", imagesVariants["full"], tag, "--runtime-image", imagesVariants["minimal"])
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	buildServe(t, tag, "numpy-app [0.5, 0.25]")
}

// README's one-line Containerfile for runtime packages, as written there
// (apt-get from the Debian mirror), makes a runtime image a mod_wsgi app
// builds onto and runs on as a random uid.
func TestBuildRuntimeImageReadmeContainerfile(t *testing.T) {
	buildIsolate(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n### Runtime images: build on full, ship on minimal\n")
	if !ok {
		t.Fatal(`README.md has no section "### Runtime images: build on full, ship on minimal"`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	_, block, ok := strings.Cut(sec, "```Containerfile\n")
	if !ok {
		t.Fatal("README.md: no Containerfile block in the runtime images section")
	}
	block, _, _ = strings.Cut(block, "```")
	// The block is indented as part of a list item.
	var cf strings.Builder
	for _, line := range strings.Split(block, "\n") {
		cf.WriteString(strings.TrimSpace(line) + "\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	imagesRequire(t, ctx, imagesVariants["minimal"])
	rt := "localhost/pys2i-test/runtime-readme:latest"
	buildImageFromFiles(t, rt, map[string]string{"Containerfile": cf.String()})
	tag := "localhost/pys2i-test/runtime-readme-mod-wsgi:latest"
	r := runtimeBuild(t, "mod-wsgi", imagesVariants["full"], tag, "--runtime-image", rt)
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	buildServe(t, tag, "mod-wsgi")
}

// A run script from the source's .s2i/bin is uploaded to the runtime
// image's WORKDIR/scripts/run, as s2i does, and is the image's Cmd.
func TestBuildRuntimeImageSourceRunScript(t *testing.T) {
	buildIsolate(t)
	app, err := os.ReadFile(filepath.Join("..", "apps", "app-py", "app.py"))
	if err != nil {
		t.Fatal(err)
	}
	src := appDir(t, map[string]string{
		"app.py":           strings.Replace(string(app), `b"app-py"`, `b"own-run"`, 1),
		".s2i/bin/run":     "#!/bin/sh\nexec python3 /opt/app-root/src/app.py\n",
		"requirements.txt": "",
	})
	if err := os.Chmod(filepath.Join(src, ".s2i/bin/run"), 0o755); err != nil {
		t.Fatal(err)
	}
	tag := "localhost/pys2i-test/runtime-own-run:latest"
	buildRmi(t, tag)
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, imagesVariants["minimal"], tag, "--runtime-image", imagesVariants["minimal"])
	buildNoLeftovers(t, before, r)
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := runtimeInspect(t, tag, "{{.Config.Cmd}}"); got != "[/opt/app-root/src/scripts/run]" {
		t.Errorf("Cmd %s, want [/opt/app-root/src/scripts/run]", got)
	}
	if out := runtimeInImage(t, tag, `stat -c '%u %a' scripts/run`); out != "1001 755" {
		t.Errorf("scripts/run: %q, want 1001 755", out)
	}
	buildServe(t, tag, "own-run")
}
