package pyindex

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ManifestName is written last in OutDir: its presence means the index is
// complete.
const ManifestName = "MANIFEST.txt"

// writeIndex lays the artifacts out as a PEP 503 index under out/simple and
// writes out/MANIFEST.txt.
func writeIndex(out string, all []*artifact) error {
	byProject := map[string][]*artifact{}
	where := map[string]string{}
	for _, a := range all {
		n := NormalizeName(a.project)
		key := n + "/" + a.file
		if prev, dup := where[key]; dup {
			return fmt.Errorf("simple/%s produced twice: by %s and by %s", key, prev, a.from)
		}
		where[key] = a.from
		byProject[n] = append(byProject[n], a)
	}
	simple := filepath.Join(out, "simple")
	if err := os.MkdirAll(simple, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(byProject))
	for n := range byProject {
		names = append(names, n)
	}
	sort.Strings(names)

	var root strings.Builder
	root.WriteString("<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"1.0\">\n<title>Simple index</title>\n</head>\n<body>\n")
	for _, n := range names {
		fmt.Fprintf(&root, "<a href=\"%s/\">%s</a><br/>\n", n, n)
		as := byProject[n]
		sort.Slice(as, func(i, j int) bool { return as[i].file < as[j].file })
		dir := filepath.Join(simple, n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		var page strings.Builder
		fmt.Fprintf(&page, "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"1.0\">\n<title>Links for %s</title>\n</head>\n<body>\n<h1>Links for %s</h1>\n", n, n)
		for _, a := range as {
			sum := sha256.Sum256(a.data)
			attr := ""
			if a.requiresPython != "" {
				attr = fmt.Sprintf(" data-requires-python=\"%s\"", html.EscapeString(a.requiresPython))
			}
			fmt.Fprintf(&page, "<a href=\"%s#sha256=%s\"%s>%s</a><br/>\n", a.file, hex.EncodeToString(sum[:]), attr, html.EscapeString(a.file))
			if err := os.WriteFile(filepath.Join(dir, a.file), a.data, 0o644); err != nil {
				return err
			}
		}
		page.WriteString("</body>\n</html>\n")
		if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(page.String()), 0o644); err != nil {
			return err
		}
	}
	root.WriteString("</body>\n</html>\n")
	if err := os.WriteFile(filepath.Join(simple, "index.html"), []byte(root.String()), 0o644); err != nil {
		return err
	}
	return writeManifest(out)
}

// writeManifest writes out/MANIFEST.txt: "sha256  size  path" for every
// other file under out, sorted by path.
func writeManifest(out string) error {
	var lines []string
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(out, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == ManifestName {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		lines = append(lines, fmt.Sprintf("%s  %d  %s\n", hex.EncodeToString(sum[:]), len(b), rel))
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(lines, func(i, j int) bool {
		return strings.SplitN(lines[i], "  ", 3)[2] < strings.SplitN(lines[j], "  ", 3)[2]
	})
	tmp := filepath.Join(out, ManifestName+".tmp")
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "")), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(out, ManifestName))
}
