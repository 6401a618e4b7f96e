package sbom

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	packageurl "github.com/package-url/packageurl-go"
)

// dpkgStatus is dpkg's database of installed packages.
const dpkgStatus = "var/lib/dpkg/status"

// rpmDBs are where an rpm database would be (not read: see ScanOS).
var rpmDBs = []string{"var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages", "usr/lib/sysimage/rpm/rpmdb.sqlite"}

// ScanOS lists the operating system's installed packages from dpkg's
// database, if the root has one. An rpm database is not read (no pure-Go
// reader of its sqlite format is kept here); a note says so.
func ScanOS(fsys fs.FS) (pkgs []Package, notes []string, err error) {
	for _, db := range rpmDBs {
		if _, err := fs.Stat(fsys, db); err == nil {
			notes = append(notes, "the rpm database /"+db+" was not read: its packages are not listed")
			break
		}
	}
	raw, err := fs.ReadFile(fsys, dpkgStatus)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notes, nil
	}
	if err != nil {
		return nil, notes, fmt.Errorf("read /%s: %w", dpkgStatus, err)
	}
	distro := osRelease(fsys)
	pkgs = parseDpkgStatus(raw, distro)
	return pkgs, notes, nil
}

// parseDpkgStatus reads dpkg's status file: the paragraphs of installed
// packages (Status "install ok installed").
func parseDpkgStatus(raw []byte, distro osInfo) []Package {
	var out []Package
	for _, para := range bytes.Split(raw, []byte("\n\n")) {
		h := readParagraph(para)
		if !strings.HasSuffix(h["status"], " installed") || h["package"] == "" {
			continue
		}
		q := map[string]string{}
		if a := h["architecture"]; a != "" {
			q["arch"] = a
		}
		if distro.ID != "" && distro.Version != "" {
			q["distro"] = distro.ID + "-" + distro.Version
		}
		ns := distro.ID
		if ns == "" {
			ns = "debian"
		}
		out = append(out, Package{
			Kind: Deb, Name: h["package"], Version: h["version"], Arch: h["architecture"],
			PURL:     purl(packageurl.TypeDebian, ns, h["package"], h["version"], q),
			Summary:  firstLine(h["description"]),
			Homepage: h["homepage"], Supplier: h["maintainer"],
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Arch < out[j].Arch
	})
	return out
}

// readParagraph reads one deb822 paragraph's fields, names lowercased.
func readParagraph(p []byte) map[string]string {
	h := map[string]string{}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(p))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last != "" {
				h[last] += "\n" + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = strings.ToLower(k)
		h[last] = strings.TrimSpace(v)
	}
	return h
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// osInfo is what os-release says of the distribution.
type osInfo struct{ ID, Version string }

// osRelease reads /etc/os-release (or /usr/lib/os-release).
func osRelease(fsys fs.FS) osInfo {
	for _, p := range []string{"etc/os-release", "usr/lib/os-release"} {
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			continue
		}
		var o osInfo
		for _, line := range strings.Split(string(raw), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
			if !ok {
				continue
			}
			v = strings.Trim(v, `"'`)
			switch k {
			case "ID":
				o.ID = v
			case "VERSION_ID":
				o.Version = v
			}
		}
		return o
	}
	return osInfo{}
}
