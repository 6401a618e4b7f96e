package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// imagesReadmeRecipes returns the Containerfile blocks of README.md's
// section "Recipes: compiling on the minimal image", in order.
func imagesReadmeRecipes(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Recipes: compiling on the minimal image\n")
	if !ok {
		t.Fatal(`README.md has no section "## Recipes: compiling on the minimal image"`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var blocks []string
	for {
		var block string
		if _, sec, ok = strings.Cut(sec, "```Containerfile\n"); !ok {
			break
		}
		if block, sec, ok = strings.Cut(sec, "```\n"); !ok {
			t.Fatal("README.md: unterminated Containerfile block")
		}
		blocks = append(blocks, block)
	}
	return blocks
}

// The seed's two workarounds for the minimal image, exactly as README.md
// shows them: (1) install gcc and python3-dev with apt-get, then assemble an
// app with a C extension; (2) assemble a mod_wsgi app on the full image and
// copy /opt/app-root into the minimal one with apache2-bin. Each serves
// HTTP as a random uid.
func TestImagesRecipes(t *testing.T) {
	t.Parallel()
	recipes := imagesReadmeRecipes(t)
	if len(recipes) != 2 {
		t.Fatalf("README.md recipes: %d Containerfile blocks, want 2", len(recipes))
	}
	for i, tc := range []struct{ name, app string }{
		{"compile-on-minimal", "c-extension"},
		{"multi-stage", "mod-wsgi"},
	} {
		// One after the other: parallel subtests would queue behind every
		// other parallel test, and these long builds would end the run last.
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			for _, v := range imagesVariants {
				imagesRequire(t, ctx, v)
			}
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			if out, err := exec.Command("cp", "-a", filepath.Join("..", "apps", tc.app), src).CombinedOutput(); err != nil {
				t.Fatalf("copy %s: %v %s", tc.app, err, out)
			}
			cf := filepath.Join(dir, "Containerfile")
			if err := os.WriteFile(cf, []byte(recipes[i]), 0o644); err != nil {
				t.Fatal(err)
			}
			tag := "localhost/pys2i-test/recipe-" + tc.name + ":latest"
			start := time.Now()
			out, err := world.Podman(ctx, w.Conf, "build", "--network", "host", "-f", cf,
				"--build-arg", "PIP_INDEX_URL="+w.Index.URL, "-t", tag, src)
			if err != nil {
				t.Fatalf("build: %v\n%s", err, out)
			}
			t.Logf("podman build %s: %v, image %s", tc.name, time.Since(start).Round(time.Millisecond), imagesSize(ctx, tag))
			defer world.Podman(context.Background(), w.Conf, "rmi", "-f", tag)
			imagesServe(ctx, t, tag, 0, tc.app, []string{"--user", "12345:0"}, false)
		})
	}
}
