package imagebuild

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"go.podman.io/image/v5/docker/reference"

	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/sbom"
	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
)

// sbomDirs are the directories the SBOM layer adds (/usr/share is the
// base's).
var sbomDirs = []string{path.Dir(sbom.Dir), sbom.Dir}

// inventory reads what the image holds while assemble's root is still
// there: the venv's distributions (from the build's root: with
// --runtime-image, the venv that is copied) and the OS packages of the
// root the image is made of (the builder's, or the runtime image's).
func (b *build) inventory() (sbom.Inventory, error) {
	appRoot := envlist.Get(b.baseCfg.Config.Env, "VIRTUAL_ENV")
	if appRoot == "" {
		appRoot = envlist.Get(b.baseCfg.Config.Env, "APP_ROOT")
	}
	if appRoot == "" {
		appRoot = contract.DefaultAppRoot
	}
	inv := sbom.Inventory{
		Image:   sbom.Image{Name: imageName(b.o.Tag), BaseName: b.o.Builder, BaseDigest: b.baseDigest},
		App:     sbom.App{Name: b.o.AppName},
		Created: b.epoch, Tool: b.req.Tool,
	}
	if inv.App.Name == "" {
		inv.App.Name = appName(inv.Image.Name)
	}
	if b.info.Commit != "" {
		inv.App.Version, inv.App.Location = b.info.Commit, b.info.Location
	}
	osRoot := b.root
	if rt := b.rt; rt != nil {
		inv.Image.BaseName, inv.Image.BaseDigest, osRoot = rt.name, rt.digest, rt.root
	}
	py, _, err := scanRoot(b.root, func(r *os.Root) ([]sbom.Package, []string, error) {
		var pkgs []sbom.Package
		for _, venv := range sbom.FindVenvs(r.FS(), appRoot) {
			p, err := sbom.ScanPython(r.FS(), venv)
			if err != nil {
				return nil, nil, err
			}
			pkgs = append(pkgs, p...)
		}
		return pkgs, nil, nil
	})
	if err != nil {
		return inv, fmt.Errorf("sbom: python distributions: %w", err)
	}
	osPkgs, notes, err := scanRoot(osRoot, func(r *os.Root) ([]sbom.Package, []string, error) { return sbom.ScanOS(r.FS()) })
	if err != nil {
		return inv, fmt.Errorf("sbom: os packages: %w", err)
	}
	inv.Packages, inv.Notes = append(py, osPkgs...), notes
	b.debugf("sbom: %d python distributions, %d os packages", len(py), len(osPkgs))
	return inv, nil
}

// scanRoot runs scan on dir opened as a root: nothing is read through a
// symlink that leaves it.
func scanRoot(dir string, scan func(*os.Root) ([]sbom.Package, []string, error)) ([]sbom.Package, []string, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	return scan(r)
}

// sbomLayer writes the inventory's documents as the image's last layer.
func (b *build) sbomLayer(inv sbom.Inventory, dir string) (*commit.Layer, error) {
	var files []commit.File
	for _, f := range sbom.Formats {
		doc, err := sbom.Render(f, inv)
		if err != nil {
			return nil, err
		}
		files = append(files, commit.File{Name: f.File(), Data: doc})
	}
	l, err := commit.FileLayer(filepath.Join(dir, "sbom.tar"), sbomDirs, files, b.epoch)
	if err != nil {
		return nil, fmt.Errorf("sbom: %w", err)
	}
	return &l, nil
}

// imageName is how the SBOM names the image: TAG without its transport,
// and a registry name without its tag, so that the same image pushed under
// another tag (a commit's) has the same SBOM, not one more to upload.
func imageName(tag string) string {
	for _, t := range []string{"docker://", "containers-storage:", "oci:", "oci-archive:", "docker-archive:", "dir:"} {
		if rest, ok := strings.CutPrefix(tag, t); ok {
			tag = rest
			break
		}
	}
	if named, err := reference.ParseNormalizedNamed(tag); err == nil {
		return reference.TrimNamed(named).String()
	}
	return tag
}

// appName is the application's default name: the image's repository's
// last path element.
func appName(image string) string {
	if named, err := reference.ParseNormalizedNamed(image); err == nil {
		p := reference.Path(named)
		return p[strings.LastIndex(p, "/")+1:]
	}
	base := path.Base(strings.TrimSuffix(image, "/"))
	if i := strings.IndexAny(base, ":@"); i > 0 {
		base = base[:i]
	}
	return base
}
