package sbom

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

const noAssertion = "NOASSERTION"

// spdxAlgorithms are the hash names direct_url.json uses, in SPDX's terms.
var spdxAlgorithms = map[string]common.ChecksumAlgorithm{
	"md5": common.MD5, "sha1": common.SHA1, "sha224": common.SHA224, "sha256": common.SHA256,
	"sha384": common.SHA384, "sha512": common.SHA512,
}

// renderSPDX writes inv as SPDX 2.3 JSON: the document describes the
// image, which contains every package and descends from its base.
func renderSPDX(inv Inventory) ([]byte, error) {
	name := inv.Image.Name
	doc := spdx.Document{
		SPDXVersion: spdx.Version, DataLicense: spdx.DataLicense,
		SPDXIdentifier:    "DOCUMENT",
		DocumentName:      name,
		DocumentNamespace: "https://github.com/pys2i/pys2i/sbom/" + idOf(name) + "-" + contentID(inv)[:32],
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: strings.ReplaceAll(inv.Tool, " ", "-")}},
			Created:  inv.Created.UTC().Format(time.RFC3339),
		},
		DocumentComment: strings.Join(inv.Notes, "\n"),
	}
	image := common.ElementID("Image")
	doc.Packages = append(doc.Packages, &spdx.Package{
		PackageName: name, PackageSPDXIdentifier: image,
		PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: "CONTAINER",
		PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
	})
	rel := func(a common.ElementID, kind string, b common.ElementID) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(a)), RefB: common.MakeDocElementID("", string(b)), Relationship: kind,
		})
	}
	rel("DOCUMENT", common.TypeRelationshipDescribe, image)

	if b := inv.Image; b.BaseDigest != "" {
		base := &spdx.Package{
			PackageName: b.BaseName, PackageSPDXIdentifier: "BaseImage", PackageVersion: b.BaseDigest,
			PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: "CONTAINER",
			PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
		}
		if alg, hex, ok := strings.Cut(b.BaseDigest, ":"); ok && alg == "sha256" {
			base.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: hex}}
		}
		if p := basePURL(b.BaseName, b.BaseDigest); p != "" {
			base.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p}}
		}
		doc.Packages = append(doc.Packages, base)
		rel(image, common.TypeRelationshipDescendantOf, "BaseImage")
	}

	if a := inv.App; a.Name != "" {
		app := &spdx.Package{
			PackageName: a.Name, PackageSPDXIdentifier: "Application", PackageVersion: a.Version,
			PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: "APPLICATION",
			PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
		}
		if a.Location != "" {
			app.PackageDownloadLocation = "git+" + a.Location
			if a.Version != "" {
				app.PackageDownloadLocation += "@" + a.Version
			}
		}
		doc.Packages = append(doc.Packages, app)
		rel(image, common.TypeRelationshipContains, "Application")
	}

	ids := map[common.ElementID]bool{}
	for _, p := range inv.Packages {
		id := common.ElementID(spdxID(p))
		for n := 2; ids[id]; n++ {
			id = common.ElementID(fmt.Sprintf("%s-%d", spdxID(p), n))
		}
		ids[id] = true
		doc.Packages = append(doc.Packages, spdxPackage(p, id))
		rel(image, common.TypeRelationshipContains, id)
	}

	var buf bytes.Buffer
	if err := spdxjson.Write(&doc, &buf, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("write SPDX: %w", err)
	}
	return buf.Bytes(), nil
}

func spdxID(p Package) string {
	if p.Kind == Deb {
		return "Package-deb-" + idOf(p.Name) + "-" + idOf(p.Arch)
	}
	return "Package-python-" + idOf(NormalizeName(p.Name))
}

func spdxPackage(p Package, id common.ElementID) *spdx.Package {
	sp := &spdx.Package{
		PackageName: p.Name, PackageSPDXIdentifier: id, PackageVersion: p.Version,
		PackageDownloadLocation: noAssertion, PrimaryPackagePurpose: "LIBRARY",
		PackageLicenseConcluded: noAssertion, PackageLicenseDeclared: noAssertion, PackageCopyrightText: noAssertion,
		PackageSummary: p.Summary, PackageHomePage: webURL(p.Homepage),
	}
	if p.Origin != "" {
		sp.PackageDownloadLocation = p.Origin
	}
	if p.License != "" {
		sp.PackageLicenseDeclared = p.License
	} else if p.LicenseText != "" {
		sp.PackageLicenseComments = "declared: " + firstLine(p.LicenseText)
	}
	if p.Supplier != "" {
		n, e := person(p.Supplier)
		if e != "" {
			n += " (" + e + ")"
		}
		sp.PackageSupplier = &common.Supplier{SupplierType: "Organization", Supplier: n}
	}
	algs := make([]string, 0, len(p.Hashes))
	for alg := range p.Hashes {
		if _, ok := spdxAlgorithms[alg]; ok {
			algs = append(algs, alg)
		}
	}
	sort.Strings(algs)
	for _, alg := range algs {
		sp.PackageChecksums = append(sp.PackageChecksums, common.Checksum{Algorithm: spdxAlgorithms[alg], Value: p.Hashes[alg]})
	}
	if p.PURL != "" {
		sp.PackageExternalReferences = []*spdx.PackageExternalReference{{Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.PURL}}
	}
	return sp
}
