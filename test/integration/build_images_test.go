package integration

import (
	"path/filepath"
	"testing"
)

// pys2i build of the sample apps with the pys2i builder images (make
// images): no daemon, the result runs under podman as a random uid.
func TestBuildAppsWithPys2iImages(t *testing.T) {
	buildIsolate(t)
	for _, tc := range []struct{ app, variant, body string }{
		{"wsgi-flask", "minimal", "wsgi-flask"},
		{"app-module", "minimal", "app-module"}, // APP_MODULE from .s2i/environment
		{"app-sh", "full", "app-sh"},
		{"numpy-app", "minimal", "numpy-app [0.5, 0.25]"},
		{"django-pandas", "minimal", "django-pandas 6.0 rows=0"}, // collectstatic in the sandbox, migrate at run
	} {
		t.Run(tc.app, func(t *testing.T) {
			builder := imagesVariants[tc.variant]
			src, err := filepath.Abs(filepath.Join("..", "apps", tc.app))
			if err != nil {
				t.Fatal(err)
			}
			tag := "localhost/pys2i-test/pys2i-build-" + tc.app + ":latest"
			buildRmi(t, tag)
			before := buildSnapshot(t)
			r := buildRun(t, "build", src, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL)
			if r.code != 0 {
				t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			buildNoLeftovers(t, before, r)
			buildServe(t, tag, tc.body)
		})
	}
}
