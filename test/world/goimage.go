package world

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	imgspecv1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/pys2i/pys2i/imagebuild/layer"
)

// goToolchain is the host's Go, which the Go image carries: no registry
// serves a golang image here, and the Containerfile's build stage needs one.
type goToolchain struct {
	Root, Version string
}

func hostGo(ctx context.Context) (goToolchain, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOROOT", "GOVERSION").Output()
	if err != nil {
		return goToolchain{}, fmt.Errorf("go env: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return goToolchain{}, fmt.Errorf("go env: unexpected output %q", out)
	}
	return goToolchain{Root: f[0], Version: f[1]}, nil
}

// GoKey identifies the Go image: the primary line's python-minimal layer
// plus the toolchain.
func (r Recipe) GoKey(goVersion string) string {
	return key(goFormat, r.BaseKey(r.Primary()), goVersion)
}

// buildGoImage writes the golang image (python-minimal's layer, reused as
// is, plus a layer with the toolchain at /usr/local/go) into dir/oci.
func buildGoImage(ctx context.Context, r Recipe, base, dir string, tc goToolchain) (string, error) {
	minLayer, err := layoutLayer(filepath.Join(base, "oci"), "python-minimal", 0)
	if err != nil {
		return "", err
	}
	goLayer := filepath.Join(dir, "go.tar")
	defer os.Remove(goLayer)
	f, err := os.Create(goLayer)
	if err != nil {
		return "", err
	}
	err = layer.WriteDir(f, tc.Root, layer.Options{Prefix: "usr/local/go"})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("layer of %s: %w", tc.Root, err)
	}
	env := []string{"GOTOOLCHAIN=local", "GOPATH=/go"}
	for _, kv := range r.Env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			kv = "PATH=/go/bin:/usr/local/go/bin:" + p
		}
		env = append(env, kv)
	}
	return writeOCI(ctx, filepath.Join(dir, "oci"), imageSpec{
		Ref: "golang", Layers: []string{minLayer, goLayer}, Env: env, Cmd: []string{"go", "version"},
		Labels: map[string]string{"io.pys2i.test-world.base": r.BaseKey(r.Primary()), "io.pys2i.test-world.go": tc.Version},
	})
}

// layoutLayer returns the blob file of layer i of image ref in an OCI layout.
func layoutLayer(dir, ref string, i int) (string, error) {
	var index imgspecv1.Index
	if err := readJSON(filepath.Join(dir, "index.json"), &index); err != nil {
		return "", err
	}
	for _, d := range index.Manifests {
		if d.Annotations[imgspecv1.AnnotationRefName] != ref {
			continue
		}
		var m imgspecv1.Manifest
		data, err := os.ReadFile(filepath.Join(dir, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded()))
		if err != nil {
			return "", err
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return "", fmt.Errorf("manifest of %s: %w", ref, err)
		}
		if i >= len(m.Layers) {
			return "", fmt.Errorf("%s has %d layers", ref, len(m.Layers))
		}
		l := m.Layers[i].Digest
		return filepath.Join(dir, "blobs", l.Algorithm().String(), l.Encoded()), nil
	}
	return "", fmt.Errorf("no image %q in %s", ref, dir)
}
