package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/pys2i/pys2i/imagebuild/sbom"
	"github.com/pys2i/pys2i/test/harness"
	"github.com/pys2i/pys2i/test/world"
)

// sbomDocs are an image's two documents as pys2i sbom prints them.
type sbomDocs struct {
	spdx, cdx []byte
}

// sbomRead prints image's SBOM in both formats with pys2i sbom (extra:
// its flags) and has the SPDX project's and CycloneDX's validators check
// them.
func sbomRead(t *testing.T, image string, extra ...string) sbomDocs {
	t.Helper()
	var d sbomDocs
	for _, f := range []string{"spdx", "cyclonedx"} {
		r := buildRun(t, append([]string{"sbom", "--format", f, image}, extra...)...)
		if r.code != 0 {
			t.Fatalf("pys2i sbom --format %s %s: exit %d\n%s", f, image, r.code, r.stderr)
		}
		file := filepath.Join(t.TempDir(), "sbom."+f+".json")
		if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		validate := harness.ValidateSPDX
		if f == "cyclonedx" {
			validate = harness.ValidateCycloneDX
		}
		err := validate(ctx, file)
		cancel()
		if err != nil {
			t.Fatalf("%s of %s refused by its validator: %v", f, image, err)
		}
		if f == "spdx" {
			d.spdx = []byte(r.stdout)
		} else {
			d.cdx = []byte(r.stdout)
		}
	}
	return d
}

// spdxView is what the tests read of an SPDX document.
type spdxView struct {
	Packages []struct {
		SPDXID, Name, VersionInfo string
		ExternalRefs              []struct{ ReferenceType, ReferenceLocator string }
		PrimaryPackagePurpose     string
	}
	Relationships []struct{ SpdxElementId, RelationshipType, RelatedSpdxElement string }
}

func (d sbomDocs) view(t *testing.T) spdxView {
	t.Helper()
	var v spdxView
	if err := json.Unmarshal(d.spdx, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// sets are the SPDX document's Python distributions and Debian packages,
// as "name==version" (names PEP 503-normalized), sorted.
func (v spdxView) sets() (python, deb []string) {
	for _, p := range v.Packages {
		for _, r := range p.ExternalRefs {
			switch {
			case strings.HasPrefix(r.ReferenceLocator, "pkg:pypi/"):
				python = append(python, sbom.NormalizeName(p.Name)+"=="+p.VersionInfo)
			case strings.HasPrefix(r.ReferenceLocator, "pkg:deb/"):
				deb = append(deb, p.Name+"=="+p.VersionInfo)
			}
		}
	}
	sort.Strings(python)
	sort.Strings(deb)
	return python, deb
}

// cdxComponents is the CycloneDX document's component count and its
// base image (the image's pedigree's ancestor).
func (d sbomDocs) cdxView(t *testing.T) (components int, base string) {
	t.Helper()
	var bom struct {
		Metadata struct {
			Component struct {
				Pedigree struct {
					Ancestors []struct{ Name, Version string }
				}
			}
		}
		Components []json.RawMessage
	}
	if err := json.Unmarshal(d.cdx, &bom); err != nil {
		t.Fatal(err)
	}
	if a := bom.Metadata.Component.Pedigree.Ancestors; len(a) == 1 {
		base = a[0].Name + "@" + a[0].Version
	}
	return len(bom.Components), base
}

// sbomInImage is what the image itself says it holds: pip list (the
// venv's pip) and dpkg's installed packages, as sets.
func sbomInImage(t *testing.T, image string) (python, deb []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", "-e", "PIP_DISABLE_PIP_VERSION_CHECK=1", image,
		"sh", "-c", "pip list --format json 2>/dev/null")
	if err != nil {
		t.Fatalf("pip list in %s: %v\n%s", image, err, out)
	}
	var list []struct{ Name, Version string }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("pip list in %s: %v\n%s", image, err, out)
	}
	for _, p := range list {
		python = append(python, sbom.NormalizeName(p.Name)+"=="+p.Version)
	}
	out, err = world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", image,
		"dpkg-query", "-W", "-f", "${db:Status-Status} ${Package}==${Version}\n")
	if err != nil {
		t.Fatalf("dpkg-query in %s: %v\n%s", image, err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "installed "); ok {
			deb = append(deb, p)
		}
	}
	sort.Strings(python)
	sort.Strings(deb)
	return python, deb
}

// sbomSameAsImage checks the documents against the image: the SPDX
// document's Python and Debian package sets equal pip list's and dpkg's in
// the image, the CycloneDX document lists as many components, and both name
// base (NAME@DIGEST) as the image's parent.
func sbomSameAsImage(t *testing.T, docs sbomDocs, image, base string) {
	t.Helper()
	v := docs.view(t)
	py, deb := v.sets()
	wantPy, wantDeb := sbomInImage(t, image)
	if !reflect.DeepEqual(py, wantPy) {
		t.Errorf("SBOM python distributions %v, pip list in the image %v", py, wantPy)
	}
	if !reflect.DeepEqual(deb, wantDeb) || len(deb) < 20 {
		t.Errorf("SBOM debian packages (%d) differ from dpkg's in the image (%d):\n%v\n%v", len(deb), len(wantDeb), deb, wantDeb)
	}
	var parent string
	for _, p := range v.Packages {
		if p.SPDXID == "SPDXRef-BaseImage" {
			parent = p.Name + "@" + p.VersionInfo
		}
	}
	rels := map[string]bool{}
	for _, r := range v.Relationships {
		rels[r.SpdxElementId+" "+r.RelationshipType+" "+r.RelatedSpdxElement] = true
	}
	if parent != base || !rels["SPDXRef-DOCUMENT DESCRIBES SPDXRef-Image"] || !rels["SPDXRef-Image DESCENDANT_OF SPDXRef-BaseImage"] {
		t.Errorf("SPDX parent %q (want %q), relationships %v", parent, base, rels)
	}
	n, cdxBase := docs.cdxView(t)
	if n != len(py)+len(deb)+1 || cdxBase != base { // + the application
		t.Errorf("CycloneDX: %d components (want %d), base %q (want %q)", n, len(py)+len(deb)+1, cdxBase, base)
	}
}

// sbomBaseDigest is the base digest the build wrote in the image's
// annotations.
func sbomBaseDigest(t *testing.T, image string) string {
	t.Helper()
	return runtimeInspect(t, image, `{{index .Annotations "org.opencontainers.image.base.digest"}}`)
}

// Every image gets an SBOM: valid for the SPDX and CycloneDX validators,
// listing exactly what pip list and dpkg list in the image, the builder as
// parent, in the image's last layer (root-owned, readable by any uid); a
// source-only rebuild keeps the same documents and the same layer.
func TestBuildSBOM(t *testing.T) {
	buildIsolate(t)
	builder := imagesVariants["minimal"]
	tag := "localhost/pys2i-test/sbom-plain:latest"
	reuseFresh(t, tag)
	src := reuseApp(t, "sbom v1", "flask\ngunicorn\n")
	if r := reuseBuild(t, src, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL); r.code != 0 {
		t.Fatalf("build: %d\n%s", r.code, r.stderr)
	}
	docs := sbomRead(t, tag)
	sbomSameAsImage(t, docs, tag, builder+"@"+sbomBaseDigest(t, tag))
	py, _ := docs.view(t).sets()
	if !strings.Contains(strings.Join(py, " "), "flask==") {
		t.Errorf("no flask in %v", py)
	}
	if got := runtimeInImage(t, tag, "stat -c '%U:%G %a' "+sbom.Dir+"/"+sbom.SPDXName+" "+sbom.Dir+"/"+sbom.CycloneName); got != "root:root 644\nroot:root 644" {
		t.Errorf("documents in the image: %q", got)
	}
	v1 := reuseInspect(t, tag)

	reuseSetBody(t, src, "sbom v2")
	if r := reuseBuild(t, src, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL); r.code != 0 {
		t.Fatalf("rebuild: %d\n%s", r.code, r.stderr)
	}
	v2 := reuseInspect(t, tag)
	if v2.Layers[len(v2.Layers)-1] != v1.Layers[len(v1.Layers)-1] || v2.Digest == v1.Digest {
		t.Errorf("source-only rebuild: SBOM layer %s then %s (want the same), image %s then %s",
			v1.Layers[len(v1.Layers)-1], v2.Layers[len(v2.Layers)-1], v1.Digest, v2.Digest)
	}
	if again := sbomRead(t, tag); string(again.spdx) != string(docs.spdx) || string(again.cdx) != string(docs.cdx) {
		t.Error("a source-only rebuild changed the SBOM documents")
	}

	// pys2i sbom on what holds none, and on bad input.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sbom", builder}, "has no pys2i SBOM"},
		{[]string{"sbom", "--format", "xml", tag}, `--format "xml"`},
		{[]string{"sbom", "localhost/pys2i-test/no-such-image:latest"}, "no-such-image"},
	} {
		r := buildRun(t, tt.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("pys2i %v: exit %d, stderr %q: want failure naming %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// A --runtime-image build's SBOM lists what the runtime image holds: the
// venv copied from the builder, the runtime image's own Debian packages,
// and the runtime image as parent.
func TestBuildSBOMRuntimeImage(t *testing.T) {
	buildIsolate(t)
	tag := "localhost/pys2i-test/sbom-runtime:latest"
	r := runtimeBuild(t, "wsgi-flask", imagesVariants["full"], tag, "--runtime-image", runtimeImage)
	if r.code != 0 {
		t.Fatalf("build: %d\n%s", r.code, r.stderr)
	}
	t.Cleanup(func() { buildRmi(t, tag) })
	docs := sbomRead(t, tag)
	sbomSameAsImage(t, docs, tag, runtimeImage+"@"+sbomBaseDigest(t, tag))
	_, deb := docs.view(t).sets()
	if !strings.Contains(strings.Join(deb, " "), "apache2-bin==") || strings.Contains(strings.Join(deb, " "), "gcc==") {
		t.Errorf("the runtime image's Debian packages are not the ones listed: %v", deb)
	}
}

// An image written to a registry carries its SBOM as OCI artifacts that a
// real consumer (go-containerregistry's referrers client, as cosign uses)
// finds: here on distribution 2.8, through the referrers tag. pys2i sbom
// reads the pushed image too.
func TestBuildSBOMRegistry(t *testing.T) {
	buildIsolate(t)
	builder := imagesVariants["minimal"]
	src := reuseApp(t, "sbom registry", "flask\ngunicorn\n")
	repo := w.Registry.URL + "/pys2i-test/sbom-registry"
	r := reuseBuild(t, src, builder, "docker://"+repo+":v1", "-e", "PIP_INDEX_URL="+w.Index.URL, "--tls-verify=false")
	if r.code != 0 {
		t.Fatalf("build: %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "SBOM attached") {
		t.Errorf("no attachment in the log:\n%s", r.stderr)
	}
	docs := sbomRead(t, "docker://"+repo+":v1", "--tls-verify=false")
	ref, err := name.ParseReference(repo+":v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(ref.Context().Digest(desc.Digest.String()))
	if err != nil {
		t.Fatalf("referrers of %s: %v", desc.Digest, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, m := range im.Manifests {
		found[m.ArtifactType] = true
		img, err := remote.Image(ref.Context().Digest(m.Digest.String()))
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			t.Fatalf("artifact %s: %d layers, %v", m.Digest, len(layers), err)
		}
		rc, err := layers[0].Compressed()
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		err = json.NewDecoder(rc).Decode(&doc)
		rc.Close()
		if err != nil {
			t.Fatalf("artifact %s: %v", m.Digest, err)
		}
		want := docs.spdx
		if m.ArtifactType == sbom.CycloneMediaType {
			want = docs.cdx
		}
		var wantDoc map[string]any
		json.Unmarshal(want, &wantDoc)
		if !reflect.DeepEqual(doc, wantDoc) {
			t.Errorf("artifact %s (%s) is not the image's document", m.Digest, m.ArtifactType)
		}
	}
	if len(im.Manifests) != 2 || !found[sbom.SPDXMediaType] || !found[sbom.CycloneMediaType] {
		t.Errorf("referrers %+v: want the SPDX and the CycloneDX documents", im.Manifests)
	}
}

// The documents' corner cases pass the real validators too: a VCS origin
// with a masked password, archive hashes, an editable install, free-text
// and WITH licenses, several packages of one name, notes, no base digest.
func TestSBOMCornerCasesValidate(t *testing.T) {
	pkgs := []sbom.Package{
		{Kind: sbom.Python, Name: "my_lib", Version: "1.0+local.1", PURL: "pkg:pypi/my-lib@1.0%2Blocal.1", LicenseText: "Proprietary, see LICENSE", Origin: "git+https://***@git.example.com/my-lib.git@0123abcd"},
		{Kind: sbom.Python, Name: "six", Version: "1.16.0", PURL: "pkg:pypi/six@1.16.0", License: "MIT", Hashes: map[string]string{"sha256": strings.Repeat("ab", 32), "md5": strings.Repeat("cd", 16)}, Origin: "https://files.example/six-1.16.0-py2.py3-none-any.whl"},
		{Kind: sbom.Python, Name: "app", Version: "0.1", PURL: "pkg:pypi/app@0.1", Editable: true, License: "GPL-2.0-or-later WITH Classpath-exception-2.0", Homepage: "not a url"},
		{Kind: sbom.Deb, Name: "libc6", Version: "2.36-9+deb12u4", Arch: "amd64", PURL: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12", Supplier: "GNU Libc Maintainers <debian-glibc@lists.debian.org>"},
		{Kind: sbom.Deb, Name: "libc6", Version: "2.36-9+deb12u4", Arch: "i386", PURL: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=i386&distro=debian-12"},
	}
	for _, inv := range []sbom.Inventory{
		{Image: sbom.Image{Name: "registry.example:5000/team/app", BaseName: "registry.example:5000/base@sha256:" + strings.Repeat("ef", 32), BaseDigest: "sha256:" + strings.Repeat("ef", 32)},
			App: sbom.App{Name: "app", Version: "0123abcd", Location: "https://git.example.com/app.git"}, Created: time.Unix(1700000000, 0), Tool: "pys2i v1.2.3", Packages: pkgs,
			Notes: []string{"the rpm database /var/lib/rpm/rpmdb.sqlite was not read: its packages are not listed"}},
		{Image: sbom.Image{Name: "/tmp/layout"}, Created: time.Unix(0, 0), Tool: "pys2i unknown"},
	} {
		for _, f := range sbom.Formats {
			doc, err := sbom.Render(f, inv)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "doc.json")
			if err := os.WriteFile(file, doc, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			validate := harness.ValidateSPDX
			if f == sbom.CycloneDX {
				validate = harness.ValidateCycloneDX
			}
			err = validate(ctx, file)
			cancel()
			if err != nil {
				t.Errorf("%s of %q refused: %v\n%s", f, inv.Image.Name, err, doc)
			}
		}
	}
}
