package sbom

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/pys2i/pys2i/internal/redact"
)

// ScanPython lists the distributions installed in the venv at venv (a
// slash path in fsys, e.g. "opt/app-root"): every dist-info (and legacy
// egg-info) under its lib/python*/site-packages, as pip list sees them.
func ScanPython(fsys fs.FS, venv string) ([]Package, error) {
	dirs, err := fs.Glob(fsys, path.Join(venv, "lib", "python*", "site-packages"))
	if err != nil {
		return nil, err
	}
	var out []Package
	seen := map[string]bool{}
	for _, sp := range dirs {
		entries, err := fs.ReadDir(fsys, sp)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", sp, err)
		}
		for _, e := range entries {
			name := e.Name()
			var meta string
			switch {
			case strings.HasSuffix(name, ".dist-info") && e.IsDir():
				meta = path.Join(sp, name, "METADATA")
			case strings.HasSuffix(name, ".egg-info") && e.IsDir():
				meta = path.Join(sp, name, "PKG-INFO")
			case strings.HasSuffix(name, ".egg-info") && e.Type().IsRegular():
				meta = path.Join(sp, name)
			default:
				continue
			}
			raw, err := fs.ReadFile(fsys, meta)
			if errors.Is(err, fs.ErrNotExist) {
				continue // not an installed distribution (pip skips it too)
			}
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", meta, err)
			}
			p, err := pythonPackage(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", meta, err)
			}
			if strings.HasSuffix(name, ".dist-info") {
				if err := readDirectURL(fsys, path.Join(sp, name, "direct_url.json"), &p); err != nil {
					return nil, err
				}
			}
			key := NormalizeName(p.Name)
			if seen[key] {
				continue // the first on sys.path wins, as for pip list
			}
			seen[key] = true
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return NormalizeName(out[i].Name) < NormalizeName(out[j].Name) })
	return out, nil
}

var nameRuns = regexp.MustCompile(`[-_.]+`)

// NormalizeName is a distribution's name as PEP 503 (and the pypi purl)
// compare it.
func NormalizeName(n string) string { return strings.ToLower(nameRuns.ReplaceAllString(n, "-")) }

// pythonPackage reads core metadata (METADATA, PKG-INFO): its header.
func pythonPackage(raw []byte) (Package, error) {
	h := readHeader(raw)
	name, version := first(h["name"]), first(h["version"])
	if name == "" || version == "" {
		return Package{}, errors.New("core metadata without Name or Version")
	}
	p := Package{
		Kind: Python, Name: name, Version: version,
		PURL:    purl(packageurl.TypePyPi, "", NormalizeName(name), version, nil),
		Summary: first(h["summary"]), Homepage: homepage(h),
	}
	p.License, p.LicenseText = pythonLicense(h)
	return p, nil
}

// readHeader reads an RFC 822 style header (core metadata's), field names
// lowercased; continuation lines are joined to their field with newlines.
func readHeader(raw []byte) map[string][]string {
	h := map[string][]string{}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break // the body (the long description) follows
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			v := h[last]
			v[len(v)-1] += "\n" + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = strings.ToLower(strings.TrimSpace(k))
		h[last] = append(h[last], strings.TrimSpace(v))
	}
	return h
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// homepage is Home-page, else a Project-URL named like one.
func homepage(h map[string][]string) string {
	if u := first(h["home-page"]); u != "" && u != "UNKNOWN" {
		return u
	}
	for _, pu := range h["project-url"] {
		label, u, ok := strings.Cut(pu, ",")
		if !ok {
			continue
		}
		switch strings.ToLower(strings.NewReplacer("-", "", "_", "", ".", "", " ", "").Replace(label)) {
		case "homepage", "home", "source", "sourcecode", "repository":
			return strings.TrimSpace(u)
		}
	}
	return ""
}

// directURL is PEP 610's direct_url.json, the parts used here.
type directURL struct {
	URL         string `json:"url"`
	ArchiveInfo *struct {
		Hash   string            `json:"hash"`
		Hashes map[string]string `json:"hashes"`
	} `json:"archive_info"`
	VCSInfo *struct {
		VCS      string `json:"vcs"`
		CommitID string `json:"commit_id"`
	} `json:"vcs_info"`
	DirInfo *struct {
		Editable bool `json:"editable"`
	} `json:"dir_info"`
}

// readDirectURL adds what direct_url.json says (if there is one): the
// origin and the archive's hashes.
func readDirectURL(fsys fs.FS, name string, p *Package) error {
	raw, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	var d directURL
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	u := redact.URL(d.URL)
	switch {
	case d.VCSInfo != nil:
		p.Origin = d.VCSInfo.VCS + "+" + u
		if d.VCSInfo.CommitID != "" {
			p.Origin += "@" + d.VCSInfo.CommitID
		}
	case d.DirInfo != nil:
		// A local directory: its host path says nothing to the image's
		// reader.
		p.Editable = d.DirInfo.Editable
	default:
		p.Origin = u
	}
	if a := d.ArchiveInfo; a != nil {
		hashes := map[string]string{}
		for alg, hex := range a.Hashes {
			hashes[strings.ToLower(alg)] = strings.ToLower(hex)
		}
		if alg, hex, ok := strings.Cut(a.Hash, "="); ok && hashes[strings.ToLower(alg)] == "" {
			hashes[strings.ToLower(alg)] = strings.ToLower(hex)
		}
		if len(hashes) > 0 {
			p.Hashes = hashes
		}
	}
	return nil
}

// purl is a package URL, written by the purl project's library.
func purl(typ, namespace, name, version string, q map[string]string) string {
	var qs packageurl.Qualifiers
	if len(q) > 0 {
		qs = packageurl.QualifiersFromMap(q) // sorted by key
	}
	return packageurl.NewPackageURL(typ, namespace, name, version, qs, "").ToString()
}

// FindVenvs lists the venvs an image's Python apps use: dir itself if it
// is one (as $APP_ROOT is in the S2I Python images), else those among its
// direct subdirectories (a builder that makes $APP_ROOT/venv).
func FindVenvs(fsys fs.FS, dir string) []string {
	dir = strings.Trim(path.Clean("/"+dir), "/")
	if isVenv(fsys, dir) {
		return []string{dir}
	}
	entries, _ := fs.ReadDir(fsys, dir)
	var out []string
	for _, e := range entries {
		if p := path.Join(dir, e.Name()); e.IsDir() && isVenv(fsys, p) {
			out = append(out, p)
		}
	}
	return out
}

func isVenv(fsys fs.FS, dir string) bool {
	fi, err := fs.Stat(fsys, path.Join(dir, "pyvenv.cfg"))
	return err == nil && fi.Mode().IsRegular()
}
