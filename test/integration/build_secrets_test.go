package integration

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// secretsIndex is the world's index URL with user:password (the index
// ignores them: they are there to be hidden).
func secretsIndex(password string) string {
	return strings.Replace(w.Index.URL, "http://", "http://pys2iuser:"+password+"@", 1)
}

// secretsScan saves the image as an OCI directory and fails the test if
// any file of it (manifest, config with its env, labels and history, each
// layer, gunzipped when compressed) holds secret.
func secretsScan(t *testing.T, image, secret string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "oci")
	if _, err := world.Podman(ctx, buildConf(t), "save", "--format", "oci-dir", "--uncompressed", "-o", dir, image); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return err
			}
			if b, err = io.ReadAll(zr); err != nil {
				return err
			}
		}
		n++
		if i := bytes.Index(b, []byte(secret)); i >= 0 {
			lo, hi := max(0, i-200), min(len(b), i+200)
			t.Errorf("%s: the saved image's %s holds %q: ...%q...", image, filepath.Base(p), secret, b[lo:hi])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Fatalf("podman save wrote %d files: no image to scan", n)
	}
}

// secretsCat is a file of the image, read by a container of it.
func secretsCat(t *testing.T, image, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", "--user", "12345:0", image, "cat", path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Credentials in PIP_INDEX_URL are used by pip in the build and kept out of
// the image: not in the output, the config, the labels or any layer;
// pip.ini has the URL without them; and the dependency fingerprint does not
// depend on the password, so a rebuild with another password reuses the
// dependency layer.
func TestBuildCredentialsAtRest(t *testing.T) {
	buildIsolate(t)
	builder := imagesVariants["minimal"]
	tag := "localhost/pys2i-test/secrets:latest"
	reuseFresh(t, tag)
	src := reuseApp(t, "secrets v1", "flask\ngunicorn\n")

	first := reuseBuild(t, src, builder, tag, "-e", "PIP_INDEX_URL="+secretsIndex("SECRETPW1"))
	if strings.Contains(first.stdout+first.stderr, "SECRETPW") {
		t.Errorf("the password was printed:\n%s\n%s", first.stdout, first.stderr)
	}
	if !strings.Contains(first.stdout, "---> pip.ini: the index URL is written without its credentials") {
		t.Errorf("the log does not say that pip.ini has no credentials:\n%s", first.stdout)
	}
	v1 := reuseInspect(t, tag)
	fp := v1.Labels["io.pys2i.build.deps-fingerprint"]
	if fp == "" {
		t.Fatalf("no fingerprint label: %v", v1.Labels)
	}
	secretsScan(t, tag, "SECRETPW")
	if got, want := secretsCat(t, tag, "/opt/app-root/src/pip.ini"), "[global]\nindex-url = "+w.Index.URL; got != want {
		t.Errorf("pip.ini = %q, want %q", got, want)
	}

	// Another password, the same index: the same dependencies.
	reuseSetBody(t, src, "secrets v2")
	second := reuseBuild(t, src, builder, tag, "-e", "PIP_INDEX_URL="+secretsIndex("SECRETPW2"))
	if !strings.Contains(second.stdout, "---> Reusing dependencies from the previous build") {
		t.Errorf("a new password made the rebuild install again:\n%s\n%s", second.stdout, second.stderr)
	}
	v2 := reuseInspect(t, tag)
	if got := v2.Labels["io.pys2i.build.deps-fingerprint"]; got != fp {
		t.Errorf("the fingerprint label changed with the password:\n%s\n%s", fp, got)
	}
	if v2.Labels["io.pys2i.build.deps-layer"] != v1.Labels["io.pys2i.build.deps-layer"] {
		t.Errorf("the dependency layer changed with the password: %v then %v", v1.Labels, v2.Labels)
	}
	secretsScan(t, tag, "SECRETPW")
	buildServe(t, tag, "secrets v2")
}

// --as-dockerfile turns a variable with URL credentials into a build
// argument: the Containerfile and its context hold no secret, the log and
// the Containerfile say how to pass it, and the image podman builds with
// it, as they say, holds none either (podman writes a RUN's build-arg
// values into the history unless --omit-history).
func TestBuildAsDockerfileCredentials(t *testing.T) {
	buildIsolate(t)
	tag := "localhost/pys2i-test/secrets-dockerfile:latest"
	reuseFresh(t, tag)
	src := reuseApp(t, "from a Containerfile", "flask\ngunicorn\n")
	out := filepath.Join(t.TempDir(), "ctx") + "/"
	r := buildRun(t, "build", src, imagesVariants["minimal"], tag, "--as-dockerfile", out,
		"-e", "PIP_INDEX_URL="+secretsIndex("SECRETPW3"), "-e", "APP_GREETING=hi")
	if r.code != 0 {
		t.Fatalf("pys2i build --as-dockerfile: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "SECRETPW") {
		t.Errorf("the password was printed:\n%s\n%s", r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "--build-arg PIP_INDEX_URL=...") {
		t.Errorf("the log does not say how to pass PIP_INDEX_URL:\n%s", r.stderr)
	}
	cf, err := os.ReadFile(out + "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nARG PIP_INDEX_URL\n", "--build-arg PIP_INDEX_URL=...", "--omit-history", `ENV APP_GREETING="hi"`} {
		if !strings.Contains(string(cf), want) {
			t.Errorf("the Containerfile lacks %q:\n%s", want, cf)
		}
	}
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if bytes.Contains(b, []byte("SECRETPW")) {
			t.Errorf("%s in the context holds the password", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if o, err := world.Podman(ctx, buildConf(t), "build", "--network", "host", "--omit-history",
		"--build-arg", "PIP_INDEX_URL="+secretsIndex("SECRETPW3"), "-t", tag, "-f", out+"Dockerfile", out); err != nil {
		t.Fatalf("%v\n%s", err, o)
	}
	secretsScan(t, tag, "SECRETPW")
	if got, want := secretsCat(t, tag, "/opt/app-root/src/pip.ini"), "[global]\nindex-url = "+w.Index.URL; got != want {
		t.Errorf("pip.ini = %q, want %q", got, want)
	}
	buildServe(t, tag, "from a Containerfile")
}
