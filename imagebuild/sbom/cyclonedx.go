package sbom

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// cdxAlgorithms are the hash names direct_url.json uses, in CycloneDX's.
var cdxAlgorithms = map[string]cdx.HashAlgorithm{
	"md5": cdx.HashAlgoMD5, "sha1": cdx.HashAlgoSHA1, "sha256": cdx.HashAlgoSHA256,
	"sha384": cdx.HashAlgoSHA384, "sha512": cdx.HashAlgoSHA512,
}

// renderCycloneDX writes inv as CycloneDX 1.6 JSON: the image is the
// metadata's component, its base its pedigree's ancestor, and every
// package a component the image depends on.
func renderCycloneDX(inv Inventory) ([]byte, error) {
	id := contentID(inv)
	image := cdx.Component{BOMRef: "image", Type: cdx.ComponentTypeContainer, Name: inv.Image.Name}
	if b := inv.Image; b.BaseDigest != "" {
		base := cdx.Component{BOMRef: "base-image", Type: cdx.ComponentTypeContainer, Name: b.BaseName, Version: b.BaseDigest, PackageURL: basePURL(b.BaseName, b.BaseDigest)}
		if alg, hx, ok := strings.Cut(b.BaseDigest, ":"); ok && alg == "sha256" {
			base.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hx}}
		}
		image.Pedigree = &cdx.Pedigree{Ancestors: &[]cdx.Component{base}}
	}
	toolName, toolVersion, _ := strings.Cut(inv.Tool, " ")
	bom := cdx.BOM{
		BOMFormat: cdx.BOMFormat, SpecVersion: cdx.SpecVersion1_6, Version: 1,
		SerialNumber: "urn:uuid:" + uuidOf(id),
		Metadata: &cdx.Metadata{
			Timestamp: inv.Created.UTC().Format(time.RFC3339),
			Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: toolName, Version: toolVersion}}},
			Component: &image,
		},
	}
	for _, n := range inv.Notes {
		addProperty(&bom.Metadata.Properties, "pys2i:note", n)
	}
	var comps []cdx.Component
	var refs []string
	if a := inv.App; a.Name != "" {
		app := cdx.Component{BOMRef: "application", Type: cdx.ComponentTypeApplication, Name: a.Name, Version: a.Version}
		if a.Location != "" {
			app.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeVCS, URL: a.Location}}
		}
		comps = append(comps, app)
		refs = append(refs, app.BOMRef)
	}
	seen := map[string]bool{}
	for _, p := range inv.Packages {
		c := cdxComponent(p)
		for n := 2; seen[c.BOMRef]; n++ {
			c.BOMRef = fmt.Sprintf("%s#%d", cdxRef(p), n)
		}
		seen[c.BOMRef] = true
		comps = append(comps, c)
		refs = append(refs, c.BOMRef)
	}
	if len(comps) > 0 {
		bom.Components = &comps
		bom.Dependencies = &[]cdx.Dependency{{Ref: image.BOMRef, Dependencies: &refs}}
	}
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false).EncodeVersion(&bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("write CycloneDX: %w", err)
	}
	return buf.Bytes(), nil
}

// cdxRef is a package's bom-ref: its purl (unique in one image).
func cdxRef(p Package) string {
	if p.PURL != "" {
		return p.PURL
	}
	return NormalizeName(p.Name) + "@" + p.Version
}

func cdxComponent(p Package) cdx.Component {
	c := cdx.Component{
		BOMRef: cdxRef(p), Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version,
		PackageURL: p.PURL, Description: p.Summary,
	}
	switch {
	case p.License != "":
		c.Licenses = &cdx.Licenses{{Expression: p.License}}
	case p.LicenseText != "":
		c.Licenses = &cdx.Licenses{{License: &cdx.License{Name: firstLine(p.LicenseText)}}}
	}
	if p.Supplier != "" {
		n, _ := person(p.Supplier)
		c.Supplier = &cdx.OrganizationalEntity{Name: n}
	}
	algs := make([]string, 0, len(p.Hashes))
	for alg := range p.Hashes {
		if _, ok := cdxAlgorithms[alg]; ok {
			algs = append(algs, alg)
		}
	}
	sort.Strings(algs)
	var hashes []cdx.Hash
	for _, alg := range algs {
		hashes = append(hashes, cdx.Hash{Algorithm: cdxAlgorithms[alg], Value: p.Hashes[alg]})
	}
	if len(hashes) > 0 {
		c.Hashes = &hashes
	}
	var ext []cdx.ExternalReference
	if h := webURL(p.Homepage); h != "" {
		ext = append(ext, cdx.ExternalReference{Type: cdx.ERTypeWebsite, URL: h})
	}
	if o := p.Origin; o != "" {
		t := cdx.ERTypeDistribution
		if strings.HasPrefix(o, "git+") || strings.HasPrefix(o, "hg+") || strings.HasPrefix(o, "svn+") || strings.HasPrefix(o, "bzr+") {
			t = cdx.ERTypeVCS
		}
		ext = append(ext, cdx.ExternalReference{Type: t, URL: o})
	}
	if len(ext) > 0 {
		c.ExternalReferences = &ext
	}
	if p.Editable {
		addProperty(&c.Properties, "pys2i:editable", "true")
	}
	return c
}

func addProperty(props **[]cdx.Property, name, value string) {
	if *props == nil {
		*props = &[]cdx.Property{}
	}
	**props = append(**props, cdx.Property{Name: name, Value: value})
}

// uuidOf is a name-based (version 5 layout) UUID made of a hex digest.
func uuidOf(hexDigest string) string {
	b, _ := hex.DecodeString(hexDigest[:32])
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
