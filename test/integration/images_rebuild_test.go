package integration

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// imagesBuildBuilder builds the project's Containerfile on base as
// `make images` does: offline, with the world's golang image and this
// machine's Go module and build caches mounted.
func imagesBuildBuilder(ctx context.Context, t *testing.T, base, variant, tag string) {
	t.Helper()
	goenv, err := exec.Command("go", "env", "GOMODCACHE", "GOCACHE").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	dirs := strings.Fields(string(goenv))
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := world.Podman(ctx, w.Conf, "build", "-q", "--network", "host",
		"--build-arg", "GO_IMAGE="+w.Images["golang"].Name, "--build-arg", "BASE_IMAGE="+base,
		"--build-arg", "VARIANT="+variant,
		"-v", dirs[0]+":/go/pkg/mod", "-v", dirs[1]+":/root/.cache/go-build",
		"-t", tag, root)
	if err != nil {
		t.Fatalf("build the Containerfile on %s: %v\n%s", base, err, out)
	}
	t.Logf("Containerfile on %s: %v", base, time.Since(start).Round(time.Millisecond))
}

// The Containerfile on an image that is already an S2I Python image (the
// offline stand-in for upstream's python-312: our own minimal image, with
// the scripts, the venv, user 1001 and USER 1001): the scripts are replaced,
// the rest kept, and the result builds and serves an app.
func TestImagesOnS2IImage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	base := imagesVariants["minimal"]
	imagesRequire(t, ctx, base)
	tag := "localhost/pys2i-test/python-minimal-again:latest"
	imagesBuildBuilder(ctx, t, base, "minimal", tag)
	defer world.Podman(context.Background(), w.Conf, "rmi", "-f", tag)
	t.Logf("%s %s; rebuilt on it: %s", base, imagesSize(ctx, base), imagesSize(ctx, tag))

	out, err := world.Podman(ctx, w.Conf, "run", "--rm", "--network", "host", tag, "bash", "-c",
		`id -u; command -v python; readlink -f /usr/libexec/s2i/run; ls /opt/app-root; grep -c "^default:" /etc/passwd; ls /usr/libexec/s2i | tr '\n' ' '`)
	if err != nil {
		t.Fatal(err)
	}
	want := "1001\n/opt/app-root/bin/python\n/usr/libexec/s2i/s2i-scripts\nbin\ninclude\nlib\nlib64\npyvenv.cfg\nsrc\n1\nassemble run s2i-scripts save-artifacts usage"
	if out != want {
		t.Errorf("layout:\n%s\nwant:\n%s", out, want)
	}
	app := imagesApp{dir: "wsgi-flask", builder: tag}
	appTag := "localhost/pys2i-test/app-on-again:latest"
	if out, err := imagesBuildApp(ctx, t, app, appTag); err != nil {
		t.Fatalf("build wsgi-flask: %v\n%s", err, out)
	}
	defer world.Podman(context.Background(), w.Conf, "rmi", "-f", appTag)
	imagesServe(ctx, t, appTag, 0, "wsgi-flask", []string{"--user", "12345:0"}, false)
}
