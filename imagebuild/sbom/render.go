package sbom

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	packageurl "github.com/package-url/packageurl-go"
	"go.podman.io/image/v5/docker/reference"
)

// Render writes inv in format f.
func Render(f Format, inv Inventory) ([]byte, error) {
	switch f {
	case SPDX:
		return renderSPDX(inv)
	case CycloneDX:
		return renderCycloneDX(inv)
	}
	return nil, fmt.Errorf("unknown SBOM format %q", f)
}

// contentID is a digest of the inventory: what makes a document's
// namespace and serial number unique to its content, and stable for it.
func contentID(inv Inventory) string {
	raw, _ := json.Marshal(inv) // slices sorted, map keys sorted by encoding/json
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// basePURL is the base image's package URL: pkg:oci/NAME@DIGEST with its
// repository.
func basePURL(name, dgst string) string {
	if dgst == "" {
		return ""
	}
	q := map[string]string{}
	short := name
	if named, err := reference.ParseNormalizedNamed(name); err == nil {
		repo := reference.TrimNamed(named)
		q["repository_url"] = repo.Name()
		p := reference.Path(repo)
		short = p[strings.LastIndex(p, "/")+1:]
		if t, ok := named.(reference.Tagged); ok {
			q["tag"] = t.Tag()
		}
	}
	return purl(packageurl.TypeOCI, "", strings.ToLower(short), dgst, q)
}

var notIDChars = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// idOf makes an identifier part (SPDX's idstring: letters, digits, . and -).
func idOf(s string) string { return strings.Trim(notIDChars.ReplaceAllString(s, "-"), "-") }

// webURL is u if it is an http(s) URL, else "".
func webURL(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		if !strings.ContainsAny(u, " \t\n") {
			return u
		}
	}
	return ""
}

// person splits "Name <email>" (a Debian maintainer) into its parts.
func person(s string) (name, email string) {
	name, rest, ok := strings.Cut(s, "<")
	if !ok {
		return strings.TrimSpace(s), ""
	}
	return strings.TrimSpace(name), strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), ">"))
}
