package harness

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The validators come from the world's tools venv: without it these tests
// fail, they never skip.
func validators(t *testing.T) Validators {
	t.Helper()
	v, err := FindValidators()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// doc is a JSON document to mutate: objects are map[string]any.
type doc = map[string]any

func parseDoc(t *testing.T, s string) doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func writeDoc(t *testing.T, name string, d doc) string {
	t.Helper()
	b, err := json.MarshalIndent(d, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func obj(d doc, path ...any) doc {
	var x any = d
	for _, p := range path {
		switch k := p.(type) {
		case string:
			x = x.(doc)[k]
		case int:
			x = x.([]any)[k]
		}
	}
	return x.(doc)
}

// A minimal SPDX 2.3 document: one package, described by the document.
const spdxOK = `{
  "spdxVersion": "SPDX-2.3",
  "dataLicense": "CC0-1.0",
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "app-image",
  "documentNamespace": "https://example.invalid/spdx/app-image-1b4e28ba-2fa1-11d2-883f-0016d3cca427",
  "creationInfo": {"created": "2026-01-02T03:04:05Z", "creators": ["Tool: pys2i-0.1"]},
  "packages": [{
    "name": "flask",
    "SPDXID": "SPDXRef-Package-flask",
    "versionInfo": "3.1.0",
    "downloadLocation": "NOASSERTION",
    "filesAnalyzed": false,
    "licenseConcluded": "NOASSERTION",
    "licenseDeclared": "BSD-3-Clause",
    "copyrightText": "NOASSERTION",
    "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/flask@3.1.0"}]
  }],
  "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Package-flask"}]
}`

func spdxPkg(d doc) doc { return obj(d, "packages", 0) }

// addSPDXPackage adds a second package and a relationship from flask.
func addSPDXPackage(d doc, rel, to string) {
	d["packages"] = append(d["packages"].([]any), doc{
		"name": "python-minimal", "SPDXID": "SPDXRef-Image-base", "versionInfo": "latest",
		"downloadLocation": "NOASSERTION", "primaryPackagePurpose": "CONTAINER",
	})
	d["relationships"] = append(d["relationships"].([]any), doc{
		"spdxElementId": "SPDXRef-Package-flask", "relationshipType": rel, "relatedSpdxElement": to,
	})
}

func TestValidateSPDX(t *testing.T) {
	v := validators(t)
	for _, tc := range []struct {
		name   string
		change func(doc)
		want   string // "" accepted, else a part of the error
	}{
		{"minimal", func(doc) {}, ""},
		{"namespace urn:uuid", func(d doc) { d["documentNamespace"] = "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427" }, ""},
		{"license NOASSERTION", func(d doc) { spdxPkg(d)["licenseDeclared"] = "NOASSERTION" }, ""},
		{"license expression", func(d doc) { spdxPkg(d)["licenseDeclared"] = "(MIT OR Apache-2.0) AND BSD-3-Clause" }, ""},
		{"license WITH exception", func(d doc) { spdxPkg(d)["licenseDeclared"] = "GPL-2.0-only WITH Classpath-exception-2.0" }, ""},
		{"LicenseRef with its text", func(d doc) {
			spdxPkg(d)["licenseDeclared"] = "LicenseRef-pys2i-custom"
			d["hasExtractedLicensingInfos"] = []any{doc{"licenseId": "LicenseRef-pys2i-custom", "name": "custom", "extractedText": "the text"}}
		}, ""},
		{"download location URL", func(d doc) {
			spdxPkg(d)["downloadLocation"] = "https://files.pythonhosted.org/packages/flask-3.1.0-py3-none-any.whl"
		}, ""},
		{"checksum SHA256", func(d doc) {
			spdxPkg(d)["checksums"] = []any{doc{"algorithm": "SHA256", "checksumValue": strings.Repeat("0123456789abcdef", 4)}}
		}, ""},
		{"CONTAINS", func(d doc) { addSPDXPackage(d, "CONTAINS", "SPDXRef-Image-base") }, ""},
		{"DESCENDANT_OF", func(d doc) { addSPDXPackage(d, "DESCENDANT_OF", "SPDXRef-Image-base") }, ""},

		{"no documentNamespace", func(d doc) { delete(d, "documentNamespace") }, "document_namespace"},
		{"namespace with a fragment", func(d doc) { d["documentNamespace"] = "https://example.invalid/spdx/x#1" }, "must contain no fragment"},
		{"no creationInfo", func(d doc) { delete(d, "creationInfo") }, "CreationInfo does not exist"},
		{"creator without a kind", func(d doc) { obj(d, "creationInfo")["creators"] = []any{"pys2i"} }, "doesn't match any of person, organization or tool"},
		{"created without Z", func(d doc) { obj(d, "creationInfo")["created"] = "2026-01-02T03:04:05" }, "does not match format"},
		{"SPDX-2.2 document", func(d doc) { d["spdxVersion"] = "SPDX-2.2" }, "does not match the document's SPDX version"},
		{"bad document SPDXID", func(d doc) { d["SPDXID"] = "SPDXRef-DOC" }, "spdx_id must be SPDXRef-DOCUMENT"},
		{"bad package SPDXID", func(d doc) {
			spdxPkg(d)["SPDXID"] = "SPDXRef-Package_flask"
			obj(d, "relationships", 0)["relatedSpdxElement"] = "SPDXRef-Package_flask"
		}, `must only contain letters, numbers, "." and "-"`},
		{"no package name", func(d doc) { delete(spdxPkg(d), "name") }, "parameter name"},
		{"no downloadLocation", func(d doc) { delete(spdxPkg(d), "downloadLocation") }, "download_location"},
		{"downloadLocation free text", func(d doc) { spdxPkg(d)["downloadLocation"] = "the local index" }, "download_location must be a valid URL"},
		{"license free text", func(d doc) { spdxPkg(d)["licenseDeclared"] = "BSD License" }, "Unrecognized license reference: BSD License"},
		{"license unknown id", func(d doc) { spdxPkg(d)["licenseConcluded"] = "FooBar-1.0" }, "Unrecognized license reference: FooBar-1.0"},
		{"LicenseRef without its text", func(d doc) { spdxPkg(d)["licenseDeclared"] = "LicenseRef-pys2i-custom" }, "Unrecognized license reference: LicenseRef-pys2i-custom"},
		{"license WITH a license", func(d doc) { spdxPkg(d)["licenseDeclared"] = "GPL-2.0-only WITH MIT" }, "cannot be used as an exception"},
		{"license dangling OR", func(d doc) { spdxPkg(d)["licenseDeclared"] = "MIT OR" }, "Error parsing LicenseExpression"},
		{"purl without pkg:", func(d doc) { obj(spdxPkg(d), "externalRefs", 0)["referenceLocator"] = "pypi/flask@3.1.0" }, `locator of type "purl" must conform`},
		{"purl as SECURITY", func(d doc) { obj(spdxPkg(d), "externalRefs", 0)["referenceCategory"] = "SECURITY" }, "type in category SECURITY must be one of"},
		{"checksum upper case", func(d doc) {
			spdxPkg(d)["checksums"] = []any{doc{"algorithm": "SHA256", "checksumValue": strings.Repeat("0123456789ABCDEF", 4)}}
		}, "64 lowercase hexadecimal digits"},
		{"DESCRIBES a missing element", func(d doc) { obj(d, "relationships", 0)["relatedSpdxElement"] = "SPDXRef-nope" }, `did not find the referenced spdx_id "SPDXRef-nope"`},
		{"relationship to a missing element", func(d doc) { addSPDXPackage(d, "DESCENDANT_OF", "SPDXRef-nope") }, `did not find the referenced spdx_id "SPDXRef-nope"`},
		{"unknown relationship type", func(d doc) { addSPDXPackage(d, "IS_BASED_ON", "SPDXRef-Image-base") }, "Invalid RelationshipType"},
		{"two packages, nothing described", func(d doc) {
			addSPDXPackage(d, "CONTAINS", "SPDXRef-Image-base")
			d["relationships"] = d["relationships"].([]any)[1:]
		}, `there must be at least one relationship "SPDXRef-DOCUMENT DESCRIBES ..."`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			d := parseDoc(t, spdxOK)
			tc.change(d)
			err := v.ValidateSPDX(ctx, writeDoc(t, "sbom.spdx.json", d))
			if err != nil {
				t.Log(err)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("a valid document rejected: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("an invalid document accepted (want %q)", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q\ndoes not say %q", err, tc.want)
			}
		})
	}
}

// A minimal CycloneDX 1.6 document: an image with one Python package.
const cyclonedxOK = `{
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {
    "timestamp": "2026-01-02T03:04:05Z",
    "tools": {"components": [{"type": "application", "name": "pys2i", "version": "0.1"}]},
    "component": {"type": "container", "bom-ref": "image", "name": "localhost/app", "version": "latest"}
  },
  "components": [{
    "type": "library",
    "bom-ref": "pkg:pypi/flask@3.1.0",
    "name": "flask",
    "version": "3.1.0",
    "purl": "pkg:pypi/flask@3.1.0",
    "licenses": [{"license": {"id": "BSD-3-Clause"}}],
    "hashes": [{"alg": "SHA-256", "content": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]
  }],
  "dependencies": [
    {"ref": "image", "dependsOn": ["pkg:pypi/flask@3.1.0"]},
    {"ref": "pkg:pypi/flask@3.1.0"}
  ]
}`

func cdxComp(d doc) doc { return obj(d, "components", 0) }

func TestValidateCycloneDX(t *testing.T) {
	v := validators(t)
	sha := strings.Repeat("0123456789abcdef", 4)
	for _, tc := range []struct {
		name   string
		change func(doc)
		want   string
	}{
		{"minimal", func(doc) {}, ""},
		{"license expression", func(d doc) {
			cdxComp(d)["licenses"] = []any{doc{"expression": "GPL-2.0-only WITH Classpath-exception-2.0"}}
		}, ""},
		{"license name", func(d doc) { cdxComp(d)["licenses"] = []any{doc{"license": doc{"name": "BSD License"}}} }, ""},
		{"license ids and names", func(d doc) {
			cdxComp(d)["licenses"] = []any{doc{"license": doc{"id": "MIT"}}, doc{"license": doc{"name": "custom"}}}
		}, ""},
		{"pedigree ancestors", func(d doc) {
			obj(d, "metadata", "component")["pedigree"] = doc{"ancestors": []any{doc{
				"type": "container", "bom-ref": "base", "name": "localhost/pys2i/python-minimal", "version": "latest",
				"purl":   "pkg:oci/python-minimal@sha256%3A" + sha + "?repository_url=localhost/pys2i/python-minimal",
				"hashes": []any{doc{"alg": "SHA-256", "content": sha}},
			}}}
		}, ""},
		{"hashes", func(d doc) {
			cdxComp(d)["hashes"] = []any{doc{"alg": "SHA-256", "content": sha}, doc{"alg": "SHA-512", "content": sha + sha}, doc{"alg": "BLAKE2b-256", "content": sha}}
		}, ""},
		{"no serialNumber", func(d doc) { delete(d, "serialNumber") }, ""},

		{"version as a string", func(d doc) { d["version"] = "1" }, "is not of type 'integer'"},
		{"component version as a number", func(d doc) { cdxComp(d)["version"] = 3 }, "is not of type 'string'"},
		{"unknown property", func(d doc) { cdxComp(d)["installer"] = "pip" }, "Additional properties are not allowed ('installer' was unexpected)"},
		{"unknown component type", func(d doc) { cdxComp(d)["type"] = "package" }, "'package' is not one of"},
		{"no component name", func(d doc) { delete(cdxComp(d), "name") }, "'name' is a required property"},
		{"serialNumber upper case", func(d doc) { d["serialNumber"] = "urn:uuid:3E671687-395B-41F5-A30F-A58921A69B79" }, "does not match '^urn:uuid:"},
		{"serialNumber without urn:uuid", func(d doc) { d["serialNumber"] = "3e671687-395b-41f5-a30f-a58921a69b79" }, "does not match '^urn:uuid:"},
		{"timestamp without zone", func(d doc) { obj(d, "metadata")["timestamp"] = "2026-01-02T03:04:05" }, "is not a 'date-time'"},
		{"license id not SPDX", func(d doc) { cdxComp(d)["licenses"] = []any{doc{"license": doc{"id": "BSD License"}}} }, "is not valid under any of the given schemas"},
		{"license id and name", func(d doc) { cdxComp(d)["licenses"] = []any{doc{"license": doc{"id": "MIT", "name": "MIT"}}} }, "is not valid under any of the given schemas"},
		{"expression and license", func(d doc) {
			cdxComp(d)["licenses"] = []any{doc{"expression": "MIT"}, doc{"license": doc{"id": "MIT"}}}
		}, "is not valid under any of the given schemas"},
		{"hash alg sha256", func(d doc) { cdxComp(d)["hashes"] = []any{doc{"alg": "sha256", "content": sha}} }, "'sha256' is not one of"},
		{"hash with a prefix", func(d doc) { cdxComp(d)["hashes"] = []any{doc{"alg": "SHA-256", "content": "sha256:" + sha}} }, "does not match"},
		{"ancestors not a list", func(d doc) {
			obj(d, "metadata", "component")["pedigree"] = doc{"ancestors": doc{"type": "container", "name": "base"}}
		}, "is not of type 'array'"},
		{"empty bom-ref", func(d doc) { cdxComp(d)["bom-ref"] = "" }, "should be non-empty"},
		{"bom-ref twice", func(d doc) {
			c := doc{}
			for k, x := range cdxComp(d) {
				c[k] = x
			}
			c["name"] = "flask-copy"
			d["components"] = append(d["components"].([]any), c)
		}, "bom-ref: 'pkg:pypi/flask@3.1.0' is not unique"},
		{"dependency on an unknown ref", func(d doc) {
			dep := obj(d, "dependencies", 0)
			dep["dependsOn"] = append(dep["dependsOn"].([]any), "pkg:pypi/werkzeug@3.1.3")
		}, "model: UnknownComponentDependencyException"},
		{"dependsOn twice", func(d doc) {
			dep := obj(d, "dependencies", 0)
			dep["dependsOn"] = append(dep["dependsOn"].([]any), "pkg:pypi/flask@3.1.0")
		}, "has non-unique elements"},
		{"purl that does not parse", func(d doc) { cdxComp(d)["purl"] = "pypi/flask@3.1.0" }, "model: CycloneDxDeserializationException: PURL string supplied does not parse"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			d := parseDoc(t, cyclonedxOK)
			tc.change(d)
			err := v.ValidateCycloneDX(ctx, writeDoc(t, "sbom.cdx.json", d))
			if err != nil {
				t.Log(err)
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("a valid document rejected: %v", err)
			case tc.want != "" && err == nil:
				t.Errorf("an invalid document accepted (want %q)", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q\ndoes not say %q", err, tc.want)
			}
		})
	}
}

// Not JSON, no file, or no validators: always an error, never a pass.
func TestValidateSBOMErrors(t *testing.T) {
	v := validators(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	// pyspdxtools picks its parser by the name: a document named otherwise is read as JSON.
	oddName := filepath.Join(dir, "sbom.spdx")
	b, _ := json.Marshal(parseDoc(t, spdxOK))
	if err := os.WriteFile(oddName, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateSPDX(ctx, oddName); err != nil {
		t.Errorf("a valid SPDX JSON document not named .json: %v", err)
	}
	noTools := Validators{Bin: t.TempDir()}
	// A venv whose python lacks the library: Debian's python3, a stand-in pyspdxtools.
	noLib := Validators{Bin: t.TempDir()}
	if err := os.Symlink("/usr/bin/python3", filepath.Join(noLib.Bin, "python")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(noLib.Bin, "pyspdxtools"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		check func() error
		want  string
	}{
		{"spdx not JSON", func() error { return v.ValidateSPDX(ctx, garbage) }, "Invalid JSON"},
		{"cyclonedx not JSON", func() error { return v.ValidateCycloneDX(ctx, garbage) }, "json: Expecting property name"},
		{"cyclonedx library missing", func() error { return noLib.ValidateCycloneDX(ctx, garbage) }, "cannot check"},
		{"spdx no file", func() error { return v.ValidateSPDX(ctx, filepath.Join(dir, "none.json")) }, "no such file"},
		{"cyclonedx no file", func() error { return v.ValidateCycloneDX(ctx, filepath.Join(dir, "none.json")) }, "no such file"},
		{"spdx no tools", func() error { return noTools.ValidateSPDX(ctx, garbage) }, "has no pyspdxtools"},
		{"cyclonedx no tools", func() error { return noTools.ValidateCycloneDX(ctx, garbage) }, "has no pyspdxtools"},
		{"no bin folder", func() error { return Validators{}.ValidateCycloneDX(ctx, garbage) }, "no tools venv"},
		{"no variable, no world", func() error {
			t.Setenv(ToolsBinVar, "")
			t.Setenv("PYS2I_WORLD", t.TempDir())
			return ValidateSPDX(ctx, garbage)
		}, "build the test world"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// The documents the SPDX check says are bad, pyspdxtools' own words: its
// output reaches the error even where it exits 0.
func TestSPDXComplained(t *testing.T) {
	for out, want := range map[string]bool{
		"": false,
		"ERROR:root:The document is invalid. The following issues have been found:\nx": true,
		"The document is invalid. The following issues have been found:":               true,
		"WARNING:root:It's recommended to use the UTF-8 encoding":                      false,
		"CRITICAL:root:boom": true,
	} {
		if got := spdxComplained(out); got != want {
			t.Errorf("spdxComplained(%q) = %v", out, got)
		}
	}
}
