package world

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// runtimeFormat versions the runtime image part (see baseFormat).
const runtimeFormat = "runtime-1"

// RuntimeKey identifies line l's runtime image: its python-minimal's recipe
// plus the runtime packages. It is its own part so that changing it leaves
// the base images (and every world built on them) alone.
func (r Recipe) RuntimeKey(l Line) string {
	return key(runtimeFormat, r.BaseKey(l), l.Runtime)
}

// runtimePart builds line l's runtime image part unless it is cached, and
// adds its digest to digests; it returns the part's directory.
func (b *Builder) runtimePart(ctx context.Context, l Line, base string, digests map[string]string) (string, error) {
	dir := filepath.Join(b.Root, "runtime-"+b.Recipe.RuntimeKey(l))
	if err := b.cached(dir, "runtime image "+l.Python, func(tmp string) error {
		return b.step("runtime image "+l.Python, func() error {
			d, err := b.buildRuntimeImage(ctx, l, base, tmp)
			if err != nil {
				return err
			}
			return writeJSON(filepath.Join(tmp, "digests.json"), map[string]string{"python-runtime": d})
		})
	}); err != nil {
		return "", err
	}
	if err := readJSON(filepath.Join(dir, "digests.json"), &digests); err != nil {
		return "", fmt.Errorf("world: runtime image %s: %w", l.Python, err)
	}
	return dir, nil
}

// buildRuntimeImage writes the python-runtime image into dir/oci:
// python-minimal's layer, reused as is, plus one layer with the runtime
// packages (what mod_wsgi's module and mod_wsgi-express need: the apache2
// binary and the line's libpython), installed with apt on a copy of
// python-minimal.
func (b *Builder) buildRuntimeImage(ctx context.Context, l Line, base, dir string) (string, error) {
	r := b.Recipe
	minRoot := filepath.Join(base, "rootfs", "minimal")
	rtRoot := filepath.Join(dir, "rootfs")
	defer os.RemoveAll(rtRoot) // the image is what the tests use; the tree would only take space
	if err := b.step("install python-runtime packages", func() error {
		if err := command(ctx, b.Log, "cp", "-a", minRoot, rtRoot); err != nil {
			return err
		}
		if err := aptInstall(ctx, b.Log, rtRoot, l.Runtime); err != nil {
			return err
		}
		return cleanRootfs(rtRoot)
	}); err != nil {
		return "", err
	}
	minLayer, err := layoutLayer(filepath.Join(base, "oci"), "python-minimal", 0)
	if err != nil {
		return "", err
	}
	diff := filepath.Join(dir, "runtime-diff.tar")
	defer os.Remove(diff)
	if err := writeLayerFile(diff, minRoot, rtRoot); err != nil {
		return "", fmt.Errorf("layer of python-runtime: %w", err)
	}
	return writeOCI(ctx, filepath.Join(dir, "oci"), imageSpec{
		Ref: "python-runtime", Layers: []string{minLayer, diff}, Env: r.Env, Cmd: r.Cmd,
		Labels: map[string]string{"io.pys2i.test-world.base": r.BaseKey(l), "io.pys2i.test-world.runtime": r.RuntimeKey(l)},
	})
}
