// Package pyindex builds the test world's PEP 503 ("simple") package index
// from real distributions: pins.txt names what the index holds, one
// requirement a line; Resolve resolves it with the host's pip into lock.json
// (every file: name, version, file name, sha256, URL); Build downloads
// exactly the locked files, checks each sha256 and lays them out.
package pyindex

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ManifestName is written last in OutDir: its presence means the index is
// complete.
const ManifestName = "MANIFEST.txt"

// Options of Build.
type Options struct {
	CacheDir string       // verified downloads, kept between builds (a lock change fetches only new files)
	OutDir   string       // the index root: OutDir/simple/...; absent or empty
	Client   *http.Client // nil: the system's roots
	Log      io.Writer    // nil: discard
}

// Build lays out the files of l as a PEP 503 index under o.OutDir/simple,
// with each file's sha256 and Requires-Python in its project page, and
// writes OutDir/MANIFEST.txt last.
func Build(ctx context.Context, l Lock, o Options) error {
	if o.CacheDir == "" || o.OutDir == "" {
		return errors.New("pyindex: Options.CacheDir and OutDir are required")
	}
	if err := l.Check(); err != nil {
		return err
	}
	if ents, err := os.ReadDir(o.OutDir); err == nil && len(ents) > 0 {
		return fmt.Errorf("pyindex: OutDir %s is not empty", o.OutDir)
	} else if err != nil && !os.IsNotExist(err) {
		return err
	}
	start := time.Now()
	paths, err := Fetch(ctx, l, FetchOptions{CacheDir: o.CacheDir, Client: o.Client, Log: o.Log})
	if err != nil {
		return err
	}
	if err := writeIndex(o.OutDir, l, paths); err != nil {
		return fmt.Errorf("write index %s: %w", o.OutDir, err)
	}
	if o.Log != nil {
		fmt.Fprintf(o.Log, "index %s: %d files in %s\n", o.OutDir, len(l.Files), time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// ProjectDirs are the per-project folders of an index root (for pip's
// --find-links).
func ProjectDirs(indexRoot string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(indexRoot, "simple"))
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(indexRoot, "simple", e.Name()))
		}
	}
	return dirs, nil
}

// writeIndex hard-links (or copies) each file from the cache to
// out/simple/<name>/<file> and writes the pages and out/MANIFEST.txt.
func writeIndex(out string, l Lock, paths map[string]string) error {
	byProject := map[string][]LockedFile{}
	for _, f := range l.Files {
		byProject[f.Name] = append(byProject[f.Name], f)
	}
	names := make([]string, 0, len(byProject))
	for n := range byProject {
		names = append(names, n)
	}
	sort.Strings(names)
	simple := filepath.Join(out, "simple")
	if err := os.MkdirAll(simple, 0o755); err != nil {
		return err
	}
	var manifest []string
	writePage := func(rel, body string) error {
		sum := sha256.Sum256([]byte(body))
		manifest = append(manifest, fmt.Sprintf("%s  %d  %s\n", hex.EncodeToString(sum[:]), len(body), rel))
		return os.WriteFile(filepath.Join(out, rel), []byte(body), 0o644)
	}
	var root strings.Builder
	root.WriteString("<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"1.0\">\n<title>Simple index</title>\n</head>\n<body>\n")
	for _, n := range names {
		fmt.Fprintf(&root, "<a href=\"%s/\">%s</a><br/>\n", n, n)
		files := byProject[n]
		sort.Slice(files, func(i, j int) bool { return files[i].Filename < files[j].Filename })
		if err := os.MkdirAll(filepath.Join(simple, n), 0o755); err != nil {
			return err
		}
		var page strings.Builder
		fmt.Fprintf(&page, "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"pypi:repository-version\" content=\"1.0\">\n<title>Links for %s</title>\n</head>\n<body>\n<h1>Links for %s</h1>\n", n, n)
		for _, f := range files {
			attr := ""
			if f.RequiresPython != "" {
				attr = fmt.Sprintf(" data-requires-python=\"%s\"", html.EscapeString(f.RequiresPython))
			}
			fmt.Fprintf(&page, "<a href=\"%s#sha256=%s\"%s>%s</a><br/>\n", html.EscapeString(f.Filename), f.SHA256, attr, html.EscapeString(f.Filename))
			rel := "simple/" + n + "/" + f.Filename
			size, err := linkOrCopy(paths[f.Filename], filepath.Join(out, rel))
			if err != nil {
				return err
			}
			manifest = append(manifest, fmt.Sprintf("%s  %d  %s\n", f.SHA256, size, rel))
		}
		page.WriteString("</body>\n</html>\n")
		if err := writePage("simple/"+n+"/index.html", page.String()); err != nil {
			return err
		}
	}
	root.WriteString("</body>\n</html>\n")
	if err := writePage("simple/index.html", root.String()); err != nil {
		return err
	}
	sort.Slice(manifest, func(i, j int) bool {
		return strings.SplitN(manifest[i], "  ", 3)[2] < strings.SplitN(manifest[j], "  ", 3)[2]
	})
	tmp := filepath.Join(out, ManifestName+".tmp")
	if err := os.WriteFile(tmp, []byte(strings.Join(manifest, "")), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(out, ManifestName))
}

// linkOrCopy puts src at dst: a hard link when both are on one file system
// (the cache is replaced by rename, never rewritten, so the link stays
// true), else a copy.
func linkOrCopy(src, dst string) (int64, error) {
	if src == "" {
		return 0, fmt.Errorf("%s: not fetched", filepath.Base(dst))
	}
	if err := os.Link(src, dst); err == nil {
		st, err := os.Stat(dst)
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	outf, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(outf, in)
	if cerr := outf.Close(); err == nil {
		err = cerr
	}
	return n, err
}
