// Package sbom describes what a built image holds, as SPDX 2.3 and
// CycloneDX 1.6 JSON documents: the Python distributions of its venv (from
// their dist-info), the application, the Debian packages of its base (from
// dpkg's database), and the base image as its parent.
//
// Reading is over an fs.FS of the image's root (an os.Root's, so nothing
// is read through a symlink that leaves it); writing is pure and
// deterministic: the same inventory gives the same bytes.
package sbom

import (
	"path"
	"time"
)

// Where the documents are in every image pys2i builds.
const (
	Dir         = "/usr/share/pys2i/sbom"
	SPDXName    = "sbom.spdx.json"
	CycloneName = "sbom.cdx.json"
)

// Media types of the documents, as their projects name them (and as OCI
// artifacts carry them).
const (
	SPDXMediaType    = "application/spdx+json"
	CycloneMediaType = "application/vnd.cyclonedx+json"
)

// Format is a document format.
type Format string

const (
	SPDX      Format = "spdx"
	CycloneDX Format = "cyclonedx"
)

// Formats are the formats every image gets, in the order written.
var Formats = []Format{SPDX, CycloneDX}

// File is the document's path in the image.
func (f Format) File() string {
	if f == CycloneDX {
		return path.Join(Dir, CycloneName)
	}
	return path.Join(Dir, SPDXName)
}

// MediaType is the document's media type.
func (f Format) MediaType() string {
	if f == CycloneDX {
		return CycloneMediaType
	}
	return SPDXMediaType
}

// ParseFormat reads a format's name (spdx, cyclonedx or cdx).
func ParseFormat(s string) (Format, bool) {
	switch s {
	case "spdx", "spdx-json":
		return SPDX, true
	case "cyclonedx", "cdx", "cyclonedx-json":
		return CycloneDX, true
	}
	return "", false
}

// Kind is where a package comes from.
type Kind int

const (
	Python Kind = iota // a distribution in the venv
	Deb                // a Debian package of the base
)

// Package is one installed package.
type Package struct {
	Kind    Kind
	Name    string // as the distribution or package names itself
	Version string
	PURL    string
	// License is an SPDX license expression, "" when none can be said
	// (LicenseText then holds what the package declares, if anything).
	License     string
	LicenseText string
	Summary     string
	Homepage    string
	// Hashes of the installed archive, where the installer recorded them
	// (direct_url.json): algorithm name (sha256, ...) to hex.
	Hashes map[string]string
	// Origin is where it came from when not from an index: a URL, or a
	// VCS URL with its commit (direct_url.json). Credentials are masked.
	Origin string
	// Editable is an editable (develop) install.
	Editable bool
	// Supplier is a Debian package's maintainer.
	Supplier string
	// Arch is a Debian package's architecture.
	Arch string
}

// Image is the described image and its parent.
type Image struct {
	// Name is the image's name as built (TAG), without transport.
	Name string
	// BaseName and BaseDigest are the image it was built on (the builder,
	// or the runtime image).
	BaseName, BaseDigest string
}

// App is the application the image runs.
type App struct {
	Name    string // --application-name, else the image name's last part
	Version string // the source's commit when built from git, else ""
	// Location is the source's URL (credentials masked) when built from
	// git, else "" (a host path says nothing to the image's readers).
	Location string
}

// Inventory is everything a document says.
type Inventory struct {
	Image   Image
	App     App
	Created time.Time
	// Tool is the producing tool's version ("pys2i VERSION").
	Tool     string
	Packages []Package
	// Notes are facts the reader should know (a package database that was
	// not read), in the document's comment.
	Notes []string
}
