package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// The pys2i builder images, built by `make images` from the Containerfile:
// the unversioned names are the first Python line's.
var imagesVariants = map[string]string{
	"full":    "localhost/pys2i/python-full:latest",
	"minimal": "localhost/pys2i/python-minimal:latest",
}

// imagesLine is one Python line of the pys2i images (make images builds
// python-311-minimal, python-313-full and so on from the world's lines).
type imagesLine struct {
	python string // "3.13"
	tag    string // "313"
}

// image is the line's pys2i image of variant full, minimal or runtime.
func (l imagesLine) image(variant string) string {
	return "localhost/pys2i/python-" + l.tag + "-" + variant + ":latest"
}

// imagesLines are every line of the world; a world with one is refused:
// the tests must see both.
func imagesLines(t *testing.T) []imagesLine {
	t.Helper()
	if len(w.Lines) < 2 {
		t.Fatalf("the test world has %d Python line(s), want 2 or more: run `make world images`", len(w.Lines))
	}
	var lines []imagesLine
	for _, l := range w.Lines {
		lines = append(lines, imagesLine{python: l.Python, tag: l.Tag})
	}
	return lines
}

func imagesRequire(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if _, err := world.Podman(ctx, w.Conf, "image", "exists", name); err != nil {
		t.Fatalf("image %s missing: run `make images` (make test does): %v", name, err)
	}
}

// imagesSize is the image's size as podman reports it, for the logs (figures
// for the issue; never asserted).
func imagesSize(ctx context.Context, name string) string {
	out, err := world.Podman(ctx, w.Conf, "image", "inspect", "--format", "{{.Size}}", name)
	if err != nil {
		return "size unknown: " + err.Error()
	}
	n, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		return "size unknown: " + out
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// `podman run --rm IMAGE` prints usage and exits 0; python comes from the
// venv in `bash -c` and `sh -ic` (BASH_ENV/ENV activation); the layout and
// config are upstream's.
func TestImagesUsageShellsAndConfig(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	type image struct{ python, variant, name string }
	var images []image
	for _, l := range imagesLines(t) {
		for _, v := range []string{"full", "minimal"} {
			images = append(images, image{l.python, v, l.image(v)})
		}
	}
	// The unversioned names are the first line's images.
	for v, name := range imagesVariants {
		images = append(images, image{w.Lines[0].Python, v, name})
	}
	for _, img := range images {
		variant, name := img.variant, img.name
		t.Run(strings.TrimPrefix(name, "localhost/pys2i/"), func(t *testing.T) {
			imagesRequire(t, ctx, name)
			out, err := world.Podman(ctx, w.Conf, "run", "--rm", "--network", "host", name)
			if err != nil || !strings.Contains(out, "This is a S2I python-"+variant) {
				t.Errorf("usage: %v\n%s", err, out)
			}
			for _, shell := range [][]string{{"bash", "-c"}, {"sh", "-ic"}} {
				args := append([]string{"run", "--rm", "--network", "host", name}, shell...)
				// Upstream's locale, set and usable (no setlocale warning).
				out, err := world.Podman(ctx, w.Conf, append(args, "python --version; command -v python; id -u; pwd; "+
					`python -c 'import locale; print(locale.setlocale(locale.LC_ALL, ""))' 2>&1; echo "$LANG $LC_ALL $PYTHON_VERSION"`)...)
				if err != nil {
					t.Fatalf("%v: %v", shell, err)
				}
				locale := "\nen_US.UTF-8\nen_US.UTF-8 en_US.UTF-8 " + img.python
				if !strings.Contains(out, "Python "+img.python+".") || !strings.HasSuffix(out, locale) || !strings.Contains(out, "/opt/app-root/bin/python") ||
					!strings.Contains(out, "1001") || !strings.Contains(out, "/opt/app-root/src") {
					t.Errorf("%v:\n%s", shell, out)
				}
			}
			cfg, err := world.Podman(ctx, w.Conf, "image", "inspect", "--format",
				`{{.Config.User}}|{{index .Config.Labels "io.openshift.s2i.scripts-url"}}|{{index .Config.Labels "io.openshift.expose-services"}}|{{.Config.WorkingDir}}`, name)
			if err != nil {
				t.Fatal(err)
			}
			if want := "1001|image:///usr/libexec/s2i|8080:http|/opt/app-root/src"; cfg != want {
				t.Errorf("config %q, want %q", cfg, want)
			}
			// The scripts are links to one copy of the binary; fix-permissions too.
			out, err = world.Podman(ctx, w.Conf, "run", "--rm", "--network", "host", name, "sh", "-c",
				`for f in /usr/libexec/s2i/assemble /usr/libexec/s2i/run /usr/libexec/s2i/save-artifacts /usr/bin/fix-permissions; do readlink -f $f; done; stat -c %u:%g /opt/app-root/bin/activate; grep -c '^unset BASH_ENV' /opt/app-root/bin/activate || true`)
			if err != nil {
				t.Fatal(err)
			}
			unset := "0"
			if variant == "full" {
				unset = "1"
			}
			want := strings.Repeat("/usr/libexec/s2i/s2i-scripts\n", 4) + "1001:0\n" + unset
			if out != want {
				t.Errorf("layout:\n%s\nwant:\n%s", out, want)
			}
		})
	}
}
