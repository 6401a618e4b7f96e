package sbom

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const sp = "opt/app-root/lib/python3.11/site-packages"

func venvFS() fstest.MapFS {
	return fstest.MapFS{
		sp + "/Flask-3.1.0.dist-info/METADATA":       {Data: []byte("Metadata-Version: 2.3\nName: Flask\nVersion: 3.1.0\nSummary: A micro framework\nProject-URL: Source, https://github.com/pallets/flask/\nClassifier: License :: OSI Approved :: BSD License\nLicense-Expression: BSD-3-Clause\n\nLong description\nName: not-a-field\n")},
		sp + "/requests-2.32.3.dist-info/METADATA":   {Data: []byte("Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\nLicense: Apache 2.0\nHome-page: https://requests.readthedocs.io\n\n")},
		sp + "/my_lib-1.0.dist-info/METADATA":        {Data: []byte("Metadata-Version: 2.1\nName: my_lib\nVersion: 1.0\nLicense: Proprietary, see\n        LICENSE.txt\nClassifier: License :: Other/Proprietary License\n\n")},
		sp + "/my_lib-1.0.dist-info/direct_url.json": {Data: []byte(`{"url": "https://user:s3cret@git.example.com/my-lib.git", "vcs_info": {"vcs": "git", "commit_id": "0123abcd"}}`)},
		sp + "/six-1.16.0.dist-info/METADATA":        {Data: []byte("Name: six\nVersion: 1.16.0\nClassifier: License :: OSI Approved :: MIT License\n\n")},
		sp + "/six-1.16.0.dist-info/direct_url.json": {Data: []byte(`{"url": "https://files.example/six-1.16.0-py2.py3-none-any.whl", "archive_info": {"hashes": {"sha256": "AB12"}, "hash": "sha256=ab12"}}`)},
		sp + "/app-0.1.dist-info/METADATA":           {Data: []byte("Name: app\nVersion: 0.1\n\n")},
		sp + "/app-0.1.dist-info/direct_url.json":    {Data: []byte(`{"url": "file:///tmp/src", "dir_info": {"editable": true}}`)},
		sp + "/legacy.egg-info/PKG-INFO":             {Data: []byte("Metadata-Version: 1.0\nName: legacy\nVersion: 0.9\nLicense: UNKNOWN\n\n")},
		sp + "/broken.dist-info/RECORD":              {Data: []byte("")}, // no METADATA: not installed
		sp + "/README.txt":                           {Data: []byte("x")},
		"var/lib/dpkg/status": {Data: []byte("Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\nMaintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\nDescription: GNU C Library: Shared libraries\n Contains the standard libraries.\nHomepage: https://www.gnu.org/software/libc/libc.html\n\n" +
			"Package: removed\nStatus: deinstall ok config-files\nVersion: 1\n\n" +
			"Package: python3.11\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.11.2-6\n")},
		"opt/app-root/pyvenv.cfg": {Data: []byte("home = /usr/bin\n")},
		"etc/os-release":          {Data: []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n")},
	}
}

func TestScan(t *testing.T) {
	pkgs, notes, err := scan(venvFS())
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("notes %v", notes)
	}
	byName := map[string]Package{}
	var names []string
	for _, p := range pkgs {
		byName[p.Name] = p
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "app Flask legacy my_lib requests six libc6 python3.11" {
		t.Fatalf("packages %q", got)
	}
	tests := []struct {
		name                              string
		version, purl, license, text, org string
		home                              string
		hashes                            string
		editable                          bool
	}{
		{name: "Flask", version: "3.1.0", purl: "pkg:pypi/flask@3.1.0", license: "BSD-3-Clause", home: "https://github.com/pallets/flask/"},
		{name: "requests", version: "2.32.3", purl: "pkg:pypi/requests@2.32.3", license: "Apache-2.0", home: "https://requests.readthedocs.io"},
		{name: "my_lib", version: "1.0", purl: "pkg:pypi/my-lib@1.0", text: "Proprietary, see\nLICENSE.txt", org: "git+https://***@git.example.com/my-lib.git@0123abcd"},
		{name: "six", version: "1.16.0", purl: "pkg:pypi/six@1.16.0", license: "MIT", org: "https://files.example/six-1.16.0-py2.py3-none-any.whl", hashes: "map[sha256:ab12]"},
		{name: "app", version: "0.1", purl: "pkg:pypi/app@0.1", editable: true},
		{name: "legacy", version: "0.9", purl: "pkg:pypi/legacy@0.9"},
		{name: "libc6", version: "2.36-9+deb12u4", purl: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12", home: "https://www.gnu.org/software/libc/libc.html"},
	}
	for _, tt := range tests {
		p := byName[tt.name]
		hashes := ""
		if p.Hashes != nil {
			hashes = strings.ReplaceAll(strings.TrimSpace(fmtMap(p.Hashes)), " ", "")
		}
		if p.Version != tt.version || p.PURL != tt.purl || p.License != tt.license || p.LicenseText != tt.text ||
			p.Origin != tt.org || p.Homepage != tt.home || hashes != tt.hashes || p.Editable != tt.editable {
			t.Errorf("%s: got %+v", tt.name, p)
		}
	}
	if s := byName["libc6"]; s.Summary != "GNU C Library: Shared libraries" || s.Supplier != "GNU Libc Maintainers <debian-glibc@lists.debian.org>" {
		t.Errorf("libc6 %+v", s)
	}
}

// scan lists what an image's root holds, as the build does.
func scan(fsys fstest.MapFS) ([]Package, []string, error) {
	var pkgs []Package
	for _, venv := range FindVenvs(fsys, "/opt/app-root") {
		p, err := ScanPython(fsys, venv)
		if err != nil {
			return nil, nil, err
		}
		pkgs = append(pkgs, p...)
	}
	osPkgs, notes, err := ScanOS(fsys)
	return append(pkgs, osPkgs...), notes, err
}

func fmtMap(m map[string]string) string {
	var b strings.Builder
	b.WriteString("map[")
	first := true
	for k, v := range m {
		if !first {
			b.WriteString(" ")
		}
		first = false
		b.WriteString(k + ":" + v)
	}
	return b.String() + "]"
}

func TestLicense(t *testing.T) {
	tests := []struct {
		header     string
		expr, text string
	}{
		{"License-Expression: MIT OR Apache-2.0", "MIT OR Apache-2.0", ""},
		{"License-Expression: (MIT OR Apache-2.0) AND BSD-3-Clause", "(MIT OR Apache-2.0) AND BSD-3-Clause", ""},
		{"License-Expression: GPL-2.0-or-later WITH Classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0", ""},
		{"License-Expression: LicenseRef-Proprietary", "", "LicenseRef-Proprietary"},
		{"License-Expression: Made-Up-1.0", "", "Made-Up-1.0"},
		{"License-Expression: MIT OR", "", "MIT OR"},
		{"License-Expression: (MIT", "", "(MIT"},
		{"License: BSD", "", "BSD"},
		{"License: MIT License (MIT)", "MIT", ""},
		{"License: UNKNOWN\nClassifier: License :: OSI Approved :: BSD License", "", ""},
		{"Classifier: License :: OSI Approved :: MIT License\nClassifier: License :: OSI Approved :: Apache Software License", "MIT OR Apache-2.0", ""},
		{"License: Copyright (c) Someone, all rights reserved", "", "Copyright (c) Someone, all rights reserved"},
	}
	for _, tt := range tests {
		expr, text := pythonLicense(readHeader([]byte(tt.header + "\n\n")))
		if expr != tt.expr || text != tt.text {
			t.Errorf("%q: got %q, %q; want %q, %q", tt.header, expr, text, tt.expr, tt.text)
		}
	}
}

func inventory(t *testing.T) Inventory {
	pkgs, _, err := scan(venvFS())
	if err != nil {
		t.Fatal(err)
	}
	return Inventory{
		Image:   Image{Name: "registry.example/team/app:1", BaseName: "localhost/pys2i/python-311:latest", BaseDigest: "sha256:" + strings.Repeat("ab", 32)},
		App:     App{Name: "app", Version: "0123abcd", Location: "https://git.example.com/app.git"},
		Created: time.Unix(1700000000, 0), Tool: "pys2i v1.0.0", Packages: pkgs,
		Notes: []string{"a note"},
	}
}

// TestRenderDeterministic: the same inventory gives the same bytes; a
// changed one another namespace and serial number.
func TestRenderDeterministic(t *testing.T) {
	inv := inventory(t)
	for _, f := range Formats {
		a, err := Render(f, inv)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := Render(f, inventory(t))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renderings differ", f)
		}
		other := inventory(t)
		other.Packages = other.Packages[1:]
		c, _ := Render(f, other)
		var da, dc map[string]any
		if err := json.Unmarshal(a, &da); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		json.Unmarshal(c, &dc)
		key := "documentNamespace"
		if f == CycloneDX {
			key = "serialNumber"
		}
		if da[key] == dc[key] || da[key] == "" {
			t.Errorf("%s: %s %v for two inventories", f, key, da[key])
		}
		if bytes.Contains(a, []byte("s3cret")) {
			t.Errorf("%s: holds the URL's password", f)
		}
	}
}

// TestRenderSPDX checks the document's shape: described image, its base,
// every package contained, with purls.
func TestRenderSPDX(t *testing.T) {
	raw, err := Render(SPDX, inventory(t))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SPDXVersion, DocumentNamespace string
		CreationInfo                   struct{ Created string }
		Packages                       []struct {
			SPDXID, Name, VersionInfo, LicenseDeclared, DownloadLocation string
			ExternalRefs                                                 []struct{ ReferenceLocator string }
		}
		Relationships []struct{ SpdxElementId, RelationshipType, RelatedSpdxElement string }
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.CreationInfo.Created != "2023-11-14T22:13:20Z" || len(doc.Packages) != 3+8 {
		t.Fatalf("document %+v", doc)
	}
	rels := map[string]int{}
	for _, r := range doc.Relationships {
		rels[r.SpdxElementId+" "+r.RelationshipType+" "+r.RelatedSpdxElement]++
	}
	for _, want := range []string{"SPDXRef-DOCUMENT DESCRIBES SPDXRef-Image", "SPDXRef-Image DESCENDANT_OF SPDXRef-BaseImage",
		"SPDXRef-Image CONTAINS SPDXRef-Application", "SPDXRef-Image CONTAINS SPDXRef-Package-python-flask",
		"SPDXRef-Image CONTAINS SPDXRef-Package-deb-libc6-amd64"} {
		if rels[want] != 1 {
			t.Errorf("relationship %q: %d", want, rels[want])
		}
	}
	for _, p := range doc.Packages {
		switch p.SPDXID {
		case "SPDXRef-Application":
			if p.DownloadLocation != "git+https://git.example.com/app.git@0123abcd" || p.VersionInfo != "0123abcd" {
				t.Errorf("app %+v", p)
			}
		case "SPDXRef-BaseImage":
			if len(p.ExternalRefs) != 1 || p.ExternalRefs[0].ReferenceLocator != "pkg:oci/python-311@sha256:"+strings.Repeat("ab", 32)+"?repository_url=localhost%2Fpys2i%2Fpython-311&tag=latest" {
				t.Errorf("base %+v", p)
			}
		}
	}
}

// TestRenderCycloneDX checks the BOM's shape: the image with its base as
// ancestor, the components and the image's dependencies.
func TestRenderCycloneDX(t *testing.T) {
	raw, err := Render(CycloneDX, inventory(t))
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		SpecVersion, SerialNumber string
		Metadata                  struct {
			Timestamp string
			Component struct {
				Type, Name string
				Pedigree   struct{ Ancestors []struct{ Name, Purl string } }
			}
		}
		Components []struct {
			BOMRef   string `json:"bom-ref"`
			Name     string
			Licenses []map[string]any
		}
		Dependencies []struct {
			Ref       string
			DependsOn []string
		}
	}
	if err := json.Unmarshal(raw, &bom); err != nil {
		t.Fatal(err)
	}
	if bom.SpecVersion != "1.6" || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") || bom.Metadata.Component.Type != "container" ||
		len(bom.Metadata.Component.Pedigree.Ancestors) != 1 || len(bom.Components) != 9 || len(bom.Dependencies) != 1 || len(bom.Dependencies[0].DependsOn) != 9 {
		t.Fatalf("bom %+v", bom)
	}
}

// TestScanSymlinkOut: a METADATA that is a symlink out of the root is not
// read through.
func TestScanSymlinkOut(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("Name: stolen\nVersion: 1\n\n"), 0o600)
	root := filepath.Join(dir, "root")
	di := filepath.Join(root, sp, "x-1.dist-info")
	if err := os.MkdirAll(di, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(di, "METADATA")); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pkgs, err := ScanPython(r.FS(), "opt/app-root")
	if err == nil {
		t.Fatalf("read through a symlink out of the root: %+v", pkgs)
	}
}
