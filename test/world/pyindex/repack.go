package pyindex

import (
	"archive/tar"
	"context"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/pys2i/pys2i/test/world/deb"
)

const distPackages = "usr/lib/python3/dist-packages/"

// wheelTag is the tag of repacked wheels holding ELF files: Debian bookworm
// builds extension modules for CPython 3.11 on amd64 only.
const wheelTag = "cp311-cp311-linux_x86_64"

var pep440ish = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*([._-]?(a|b|rc|alpha|beta|c|pre|preview)[0-9]*)?([._-]?(post|rev|r)[0-9]*)?([._-]?dev[0-9]*)?$`)

// artifact is one file of the index.
type artifact struct {
	project        string // as given (normalized when written)
	file           string
	data           []byte
	requiresPython string
	from           string // step and item, for errors
}

func isMetaDir(top string) bool {
	return strings.HasSuffix(top, ".dist-info") || strings.HasSuffix(top, ".egg-info")
}

// topMatches reports whether the top-level entry top of dist-packages
// belongs to the module or package m: "m" (a package folder), "m.py",
// "m.so" or "m.<abi tag>.so".
func topMatches(top, m string) bool {
	return top == m || top == m+".py" || top == m+".so" ||
		(strings.HasPrefix(top, m+".") && strings.HasSuffix(top, ".so"))
}

// topName is the module name of a top-level entry of dist-packages.
func topName(top string) string {
	switch {
	case strings.HasSuffix(top, ".py"):
		return strings.TrimSuffix(top, ".py")
	case strings.HasSuffix(top, ".so"):
		n, _, _ := strings.Cut(top, ".")
		return n
	case strings.HasSuffix(top, ".pth"):
		return ""
	}
	return top
}

// stripLocal drops a PEP 440 local version label ("20.17.1+ds" -> "20.17.1"):
// Debian's repack markers, never part of an upstream release.
func stripLocal(v string) string {
	v, _, _ = strings.Cut(v, "+")
	return v
}

// repack turns one Debian binary package into a wheel.
func (b *builder) repack(ctx context.Context, w DebWheel) (*artifact, error) {
	debPath, ok := b.debs[w.Deb]
	if !ok {
		return nil, fmt.Errorf("not downloaded")
	}
	ctrl, err := deb.Control(debPath)
	if err != nil {
		return nil, err
	}
	files, err := readDebFiles(w.Deb, debPath, nil)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", debPath, err)
	}
	var bundle []*debFiles
	for _, bd := range w.Bundle {
		p, ok := b.debs[bd]
		if !ok {
			return nil, fmt.Errorf("bundle %s: not downloaded", bd)
		}
		d, err := readDebFiles(bd, p, nil)
		if err != nil {
			return nil, fmt.Errorf("bundle %s: %w", bd, err)
		}
		bundle = append(bundle, d)
	}

	// Entries under dist-packages, by path relative to it.
	var rels []string
	tops := map[string]bool{}
	for p, e := range files.entries {
		if !strings.HasPrefix(p, distPackages) || e.typ == tar.TypeDir {
			continue
		}
		rel := strings.TrimPrefix(p, distPackages)
		rels = append(rels, rel)
		top, _, _ := strings.Cut(rel, "/")
		tops[top] = true
	}
	sort.Strings(rels)
	if len(rels) == 0 {
		return nil, fmt.Errorf("no files under /%s", distPackages)
	}

	// The metadata folder (or egg-info file) of the project.
	var metas []string
	for t := range tops {
		if isMetaDir(t) {
			metas = append(metas, t)
		}
	}
	sort.Strings(metas)
	metaDir := ""
	switch len(metas) {
	case 0:
		return nil, fmt.Errorf("no .dist-info or .egg-info under /%s", distPackages)
	case 1:
		metaDir = metas[0]
	default:
		for _, m := range metas {
			n, _, _ := strings.Cut(m, "-")
			if NormalizeName(n) == NormalizeName(w.Project) {
				metaDir = m
			}
		}
		if metaDir == "" {
			return nil, fmt.Errorf("several metadata folders (%s), none for %s", strings.Join(metas, ", "), w.Project)
		}
	}
	metaFile := func(name string) []byte {
		if e, ok := files.entries[distPackages+metaDir]; ok && e.typ == tar.TypeReg {
			if name == "PKG-INFO" {
				return e.data // an egg-info file is the PKG-INFO itself
			}
			return nil
		}
		if e, ok := files.entries[distPackages+metaDir+"/"+name]; ok && e.typ == tar.TypeReg {
			return e.data
		}
		return nil
	}
	mdName := "PKG-INFO"
	if strings.HasSuffix(metaDir, ".dist-info") {
		mdName = "METADATA"
	}
	raw := metaFile(mdName)
	if raw == nil {
		return nil, fmt.Errorf("no %s in %s", mdName, metaDir)
	}
	md := parseMetadata(raw)
	if n := md.get("Name"); n != "" && NormalizeName(n) != NormalizeName(w.Project) {
		return nil, fmt.Errorf("recipe says project %q, %s/%s says %q", w.Project, metaDir, mdName, n)
	}

	// Version: the metadata's, else the deb's upstream version.
	debVersion := deb.UpstreamVersion(ctrl["Version"])
	version := stripLocal(md.get("Version"))
	if version == "" {
		version = debVersion
	}
	if !pep440ish.MatchString(version) {
		return nil, fmt.Errorf("version %q (deb %s) is not a plain PEP 440 release", version, ctrl["Version"])
	}
	if version != debVersion {
		b.logf("repack %s: note: metadata version %s, deb version %s: using %s", w.Deb, md.get("Version"), ctrl["Version"], version)
	}

	// Which top-level modules.
	modules := w.Modules
	fromRecipe := len(modules) > 0
	if !fromRecipe {
		if tl := metaFile("top_level.txt"); tl != nil {
			for _, l := range strings.Split(string(tl), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					modules = append(modules, l)
				}
			}
		}
	}
	matched := map[string]bool{}
	var out []File
	topNames := map[string]bool{}
	for _, rel := range rels {
		top, _, _ := strings.Cut(rel, "/")
		if isMetaDir(top) {
			continue
		}
		if strings.Contains("/"+rel+"/", "/__pycache__/") || strings.HasSuffix(rel, ".pyc") || strings.HasSuffix(rel, ".pyo") {
			continue
		}
		if len(modules) > 0 {
			hit := false
			for _, m := range modules {
				if topMatches(top, m) {
					hit, matched[m] = true, true
				}
			}
			if !hit {
				continue
			}
		}
		e := files.entries[distPackages+rel]
		var data []byte
		switch e.typ {
		case tar.TypeReg:
			data = e.data
		case tar.TypeSymlink:
			d, from, err := resolve(distPackages+rel, files, bundle)
			if err != nil {
				return nil, fmt.Errorf("symlink %s -> %s: %w (add the deb holding it to bundle)", rel, e.link, err)
			}
			data = d
			b.logf("repack %s: %s -> %s: copied from %s", w.Deb, rel, e.link, from)
		default:
			return nil, fmt.Errorf("%s: unsupported tar entry type %q", rel, e.typ)
		}
		out = append(out, File{Name: rel, Data: data, Exec: e.mode&0o111 != 0})
		if n := topName(top); n != "" {
			topNames[n] = true
		}
	}
	for _, m := range modules {
		if !matched[m] {
			if fromRecipe {
				return nil, fmt.Errorf("module %s not found under /%s", m, distPackages)
			}
			b.logf("repack %s: note: top_level.txt names %s, not shipped", w.Deb, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no module files selected under /%s", distPackages)
	}

	// Seed wheels and patches.
	for _, em := range w.Embed {
		whls, err := b.debWheels(em.Deb)
		if err != nil {
			return nil, fmt.Errorf("embed %s: %w", em.Deb, err)
		}
		for _, a := range whls {
			out = append(out, File{Name: path.Join(em.To, a.file), Data: a.data})
		}
	}
	for _, p := range w.Patch {
		i := -1
		for j := range out {
			if out[j].Name == p.File {
				i = j
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("patch: no file %s", p.File)
		}
		if n := strings.Count(string(out[i].Data), p.Old); n != 1 {
			return nil, fmt.Errorf("patch %s: text to replace found %d times, want once: %q", p.File, n, p.Old)
		}
		out[i].Data = []byte(strings.Replace(string(out[i].Data), p.Old, p.New, 1))
	}

	// Extension modules: platform tag, vendored libraries.
	tag := "py3-none-any"
	for _, f := range out {
		if isELF(f.Data) {
			tag = wheelTag
			break
		}
	}
	if tag == wheelTag {
		var idx map[string]*bundleLib
		if len(bundle) > 0 {
			if idx, err = bundleIndex(bundle); err != nil {
				return nil, err
			}
		}
		libsDir := EscapeName(w.Project) + ".libs"
		var libs []string
		out, libs, err = b.bundleLibs(ctx, out, libsDir, idx)
		if err != nil {
			return nil, err
		}
		if len(libs) > 0 {
			b.logf("repack %s: bundled into %s/: %s", w.Deb, libsDir, strings.Join(libs, " "))
		}
	}

	// Metadata.
	distInfo := EscapeName(w.Project) + "-" + version + ".dist-info"
	var m strings.Builder
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&m, "%s: %s\n", k, v)
		}
	}
	field("Metadata-Version", "2.1")
	field("Name", w.Project)
	field("Version", version)
	for _, k := range []string{"Summary", "Home-page", "Author", "Author-email", "License"} {
		field(k, md.get(k))
	}
	requiresPython := md.get("Requires-Python")
	field("Requires-Python", requiresPython)
	if w.Requires != nil {
		for _, r := range w.Requires {
			field("Requires-Dist", r)
		}
	} else {
		for _, r := range md.all("Requires-Dist") {
			field("Requires-Dist", r)
		}
		for _, r := range md.all("Provides-Extra") {
			field("Provides-Extra", r)
		}
	}
	wheelMeta := fmt.Sprintf("Wheel-Version: 1.0\nGenerator: pys2i-pyindex (repacked from %s %s)\nRoot-Is-Purelib: %t\nTag: %s\n",
		w.Deb, ctrl["Version"], tag == "py3-none-any", tag)
	out = append(out,
		File{Name: distInfo + "/METADATA", Data: []byte(m.String())},
		File{Name: distInfo + "/WHEEL", Data: []byte(wheelMeta)},
	)
	if ep := metaFile("entry_points.txt"); ep != nil {
		out = append(out, File{Name: distInfo + "/entry_points.txt", Data: ep})
	}
	var tl []string
	for n := range topNames {
		tl = append(tl, n)
	}
	sort.Strings(tl)
	if len(tl) > 0 {
		out = append(out, File{Name: distInfo + "/top_level.txt", Data: []byte(strings.Join(tl, "\n") + "\n")})
	}
	data, err := WheelBytes(out)
	if err != nil {
		return nil, err
	}
	file := WheelFileName(w.Project, version, tag)
	b.logf("repack %s -> %s (%d files, %d bytes)", w.Deb, file, len(out)+1, len(data))
	return &artifact{project: w.Project, file: file, data: data, requiresPython: requiresPython, from: "repack " + w.Deb}, nil
}

// debWheels returns the normalized wheels a deb ships under
// usr/share/python-wheels.
func (b *builder) debWheels(name string) ([]*artifact, error) {
	debPath, ok := b.debs[name]
	if !ok {
		return nil, fmt.Errorf("not downloaded")
	}
	const dir = "usr/share/python-wheels/"
	d, err := readDebFiles(name, debPath, func(p string) bool {
		return strings.HasPrefix(p, dir) && strings.HasSuffix(p, ".whl")
	})
	if err != nil {
		return nil, err
	}
	var paths []string
	for p := range d.entries {
		if strings.HasPrefix(p, dir) && strings.HasSuffix(p, ".whl") && !strings.Contains(strings.TrimPrefix(p, dir), "/") {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, fmt.Errorf("no wheels under /%s", dir)
	}
	var out []*artifact
	for _, p := range paths {
		data, _, err := resolve(p, d, nil)
		if err != nil {
			return nil, err
		}
		files, err := ReadWheel(data)
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", p, err)
		}
		norm, err := WheelBytes(files)
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", p, err)
		}
		project, _, rp, err := wheelMetadata(files)
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", p, err)
		}
		out = append(out, &artifact{project: project, file: path.Base(p), data: norm, requiresPython: rp, from: "prebuilt " + name})
	}
	return out, nil
}
