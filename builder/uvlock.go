package builder

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// uv.lock (uv's lock file, version 1): read as uv sync --locked would use
// it, without uv.

type uvLock struct {
	Version        int         `toml:"version"`
	Revision       int         `toml:"revision"`
	RequiresPython string      `toml:"requires-python"`
	Manifest       uvManifest  `toml:"manifest"`
	Packages       []uvPackage `toml:"package"`
}

type uvManifest struct {
	Members []string `toml:"members"`
	// DependencyGroups are the groups of a workspace root that is no
	// project (requirements, not resolved packages).
	DependencyGroups map[string][]uvRequirement `toml:"dependency-groups"`
}

type uvPackage struct {
	Name         string             `toml:"name"`
	Version      string             `toml:"version"`
	Source       map[string]any     `toml:"source"`
	Dependencies []uvDep            `toml:"dependencies"`
	Optional     map[string][]uvDep `toml:"optional-dependencies"`
	Dev          map[string][]uvDep `toml:"dev-dependencies"`
	Sdist        *uvDist            `toml:"sdist"`
	Wheels       []uvDist           `toml:"wheels"`
	Metadata     uvMetadata         `toml:"metadata"`
}

type uvDep struct {
	Name    string         `toml:"name"`
	Version string         `toml:"version"`
	Source  map[string]any `toml:"source"`
	Extra   []string       `toml:"extra"`
	Marker  string         `toml:"marker"`
}

type uvDist struct {
	URL  string `toml:"url"`
	Path string `toml:"path"`
	Hash string `toml:"hash"`
}

type uvMetadata struct {
	RequiresDist []uvRequirement            `toml:"requires-dist"`
	RequiresDev  map[string][]uvRequirement `toml:"requires-dev"`
}

type uvRequirement struct {
	Name      string   `toml:"name"`
	Extras    []string `toml:"extras"`
	Specifier string   `toml:"specifier"`
	Marker    string   `toml:"marker"`
}

// uvLockVersion is the uv.lock version this reader knows.
const uvLockVersion = 1

// ConvertUvLock checks a uv.lock against the pyproject.toml files of its
// projects (as uv sync --locked does; readPyproject reads the one of a
// directory relative to the lock, nil when missing), walks its graph from the project root for env and
// choice, and turns what applies into pip requirements: registry and URL
// distributions pinned by hash, git, directory and editable sources
// without. dir is the lock's directory (for path sources). Nothing is
// installed: every error comes before pip runs.
func ConvertUvLock(lock []byte, readPyproject func(rel string) []byte, dir string, env PythonEnv, choice LockChoice) (*Locked, error) {
	const file = "uv.lock"
	var l uvLock
	if _, err := toml.Decode(string(lock), &l); err != nil {
		return nil, &LockError{fmt.Sprintf("%s is corrupt: %v", file, err)}
	}
	if l.Version != uvLockVersion {
		return nil, &LockError{fmt.Sprintf("%s has version %d; this pys2i reads version %d (written by uv 0.4 and later)", file, l.Version, uvLockVersion)}
	}
	if err := checkRequiresPython(file, "the project", l.RequiresPython, env); err != nil {
		return nil, err
	}
	g, err := newUvGraph(l.Packages)
	if err != nil {
		return nil, err
	}
	roots := g.roots(l.Manifest.Members)
	if len(roots) == 0 {
		return nil, &LockError{fmt.Sprintf("%s has no project at . and no workspace members", file)}
	}
	if err := checkUvFresh(l, readPyproject); err != nil {
		return nil, err
	}
	pyproject := readPyproject(".")
	if err := checkUvManifestFresh(l, pyproject); err != nil {
		return nil, err
	}
	nb, err := uvNoBinary(pyproject)
	if err != nil {
		return nil, err
	}
	sel, err := g.walk(roots, l.Manifest.DependencyGroups, env, choice)
	if err != nil {
		return nil, err
	}
	out := &Locked{Kind: file}
	seenIndex := map[string]bool{}
	for _, i := range sel {
		p := g.pkgs[i]
		r, index, err := uvRequirementFor(p, dir, env, nb[NormalizeName(p.Name)] || nb["*"])
		if err != nil {
			return nil, err
		}
		if r == nil {
			continue // a virtual package: nothing of its own
		}
		if index != "" && !seenIndex[index] {
			seenIndex[index] = true
			out.Indexes = append(out.Indexes, index)
		}
		out.Reqs = append(out.Reqs, *r)
	}
	return out, nil
}

type uvGraph struct {
	pkgs   []uvPackage
	byName map[string][]int
}

func newUvGraph(pkgs []uvPackage) (*uvGraph, error) {
	g := &uvGraph{pkgs: pkgs, byName: map[string][]int{}}
	for i, p := range pkgs {
		if p.Name == "" {
			return nil, &LockError{fmt.Sprintf("uv.lock is corrupt: package #%d has no name", i+1)}
		}
		n := NormalizeName(p.Name)
		g.byName[n] = append(g.byName[n], i)
	}
	return g, nil
}

// sourcePath is the path of a local source (editable, virtual, directory)
// and its kind.
func sourcePath(src map[string]any) (kind, p string) {
	for _, k := range []string{"editable", "virtual", "directory"} {
		if s, ok := src[k].(string); ok {
			return k, s
		}
	}
	return "", ""
}

// roots are the packages uv sync starts from: the project at the lock's
// directory; for a workspace whose root is no project, every member.
func (g *uvGraph) roots(members []string) []int {
	for i, p := range g.pkgs {
		if _, path := sourcePath(p.Source); path == "." {
			return []int{i}
		}
	}
	var out []int
	for _, m := range members {
		for _, i := range g.byName[NormalizeName(m)] {
			if k, _ := sourcePath(g.pkgs[i].Source); k != "" {
				out = append(out, i)
			}
		}
	}
	return out
}

// resolve finds the package a dependency points at.
func (g *uvGraph) resolve(d uvDep) (int, error) {
	cands := g.byName[NormalizeName(d.Name)]
	var match []int
	for _, i := range cands {
		p := g.pkgs[i]
		if d.Version != "" && p.Version != d.Version {
			continue
		}
		if d.Source != nil && fmt.Sprint(d.Source) != fmt.Sprint(p.Source) {
			continue
		}
		match = append(match, i)
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return 0, &LockError{fmt.Sprintf("uv.lock is corrupt: a dependency on %s %s is not in the lock", d.Name, d.Version)}
	}
	return 0, &LockError{fmt.Sprintf("uv.lock is corrupt: the dependency on %s matches %d packages", d.Name, len(match))}
}

// walk collects the packages to install, from the roots' main
// dependencies, the chosen extras and groups, through every dependency
// (and extra) whose marker holds. The result is sorted by name.
func (g *uvGraph) walk(roots []int, rootGroups map[string][]uvRequirement, env PythonEnv, choice LockChoice) ([]int, error) {
	type item struct {
		pkg   int
		extra string // "" for the package itself
	}
	menv := env.MarkerEnv(nil, nil)
	seen := map[item]bool{}
	var queue []item
	push := func(it item) {
		if !seen[it] {
			seen[it] = true
			queue = append(queue, it)
		}
	}
	follow := func(from uvPackage, deps []uvDep) error {
		for _, d := range deps {
			ok, err := evalMarker("uv.lock", fmt.Sprintf("%s's dependency on %s", from.Name, d.Name), d.Marker, menv)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			i, err := g.resolve(d)
			if err != nil {
				return err
			}
			push(item{pkg: i})
			for _, e := range d.Extra {
				push(item{pkg: i, extra: NormalizeName(e)})
			}
		}
		return nil
	}
	foundExtra, foundGroup := map[string]bool{}, map[string]bool{}
	for _, r := range roots {
		p := g.pkgs[r]
		push(item{pkg: r})
		for _, e := range choice.Extras {
			for name := range p.Optional {
				if NormalizeName(name) == NormalizeName(e) {
					foundExtra[NormalizeName(e)] = true
					push(item{pkg: r, extra: NormalizeName(e)})
				}
			}
		}
		for _, grp := range choice.Groups {
			for name, deps := range p.Dev {
				if NormalizeName(name) == NormalizeName(grp) {
					foundGroup[NormalizeName(grp)] = true
					if err := follow(p, deps); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	// A virtual workspace root's groups: requirements, by name.
	for _, grp := range choice.Groups {
		for name, reqs := range rootGroups {
			if NormalizeName(name) != NormalizeName(grp) {
				continue
			}
			foundGroup[NormalizeName(grp)] = true
			var deps []uvDep
			for _, rq := range reqs {
				deps = append(deps, uvDep{Name: rq.Name, Extra: rq.Extras, Marker: rq.Marker})
			}
			if err := follow(uvPackage{Name: "the workspace root"}, deps); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range choice.Extras {
		if !foundExtra[NormalizeName(e)] {
			return nil, &LockError{fmt.Sprintf("uv.lock: PYS2I_LOCK_EXTRAS names %q, which the project does not provide", e)}
		}
	}
	for _, grp := range choice.Groups {
		if !foundGroup[NormalizeName(grp)] {
			return nil, &LockError{fmt.Sprintf("uv.lock: PYS2I_LOCK_GROUPS names %q, which is not a dependency group of the project", grp)}
		}
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		p := g.pkgs[it.pkg]
		deps := p.Dependencies
		if it.extra != "" {
			deps = nil
			for name, d := range p.Optional {
				if NormalizeName(name) == it.extra {
					deps = d
				}
			}
		}
		if err := follow(p, deps); err != nil {
			return nil, err
		}
	}
	var out []int
	for it := range seen {
		if it.extra == "" {
			out = append(out, it.pkg)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		pa, pb := g.pkgs[out[a]], g.pkgs[out[b]]
		if na, nb := NormalizeName(pa.Name), NormalizeName(pb.Name); na != nb {
			return na < nb
		}
		return pa.Version < pb.Version
	})
	return out, nil
}

// uvRequirementFor is a package as a pip requirement (nil for a virtual
// one) and, for a registry package, its index.
func uvRequirementFor(p uvPackage, dir string, env PythonEnv, noBinary bool) (*Requirement, string, error) {
	what := fmt.Sprintf("uv.lock: %s %s", p.Name, p.Version)
	src := p.Source
	str := func(k string) (string, bool) { s, ok := src[k].(string); return s, ok }
	if _, ok := str("virtual"); ok {
		return nil, "", nil
	}
	if s, ok := str("editable"); ok {
		return &Requirement{Name: p.Name, Line: "-e " + absPath(dir, s), Editable: true}, "", nil
	}
	if s, ok := str("directory"); ok {
		return &Requirement{Name: p.Name, Line: p.Name + " @ " + fileURL(dir, s)}, "", nil
	}
	if s, ok := str("git"); ok {
		line, err := uvGitRequirement(p.Name, s)
		if err != nil {
			return nil, "", &LockError{fmt.Sprintf("%s: %v", what, err)}
		}
		return &Requirement{Name: p.Name, Line: line}, "", nil
	}
	hashes, err := uvHashes(p, env, noBinary)
	if err != nil {
		return nil, "", &LockError{fmt.Sprintf("%s: %v", what, err)}
	}
	if s, ok := str("registry"); ok {
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, "", &LockError{fmt.Sprintf("%s: the registry %q is a local directory, which pys2i cannot use as an index", what, s)}
		}
		return &Requirement{Name: p.Name, Line: p.Name + "==" + p.Version + hashOpts(hashes), Hashed: true}, s, nil
	}
	if s, ok := str("url"); ok {
		return &Requirement{Name: p.Name, Line: p.Name + " @ " + s + hashOpts(hashes), Hashed: true}, "", nil
	}
	if s, ok := str("path"); ok {
		return &Requirement{Name: p.Name, Line: p.Name + " @ " + fileURL(dir, s) + hashOpts(hashes), Hashed: true}, "", nil
	}
	return nil, "", &LockError{fmt.Sprintf("%s: unknown source %v", what, src)}
}

// uvHashes are the hashes pip may accept for a registry or URL package on
// this interpreter: its compatible wheels' and its sdist's (unless
// noBinary), an error when none is left.
func uvHashes(p uvPackage, env PythonEnv, noBinary bool) ([]string, error) {
	var hashes []string
	if !noBinary {
		for _, w := range p.Wheels {
			name := fileName(w.URL)
			if w.URL == "" {
				name = fileName(w.Path)
			}
			if !wheelCompatible(name, env.Tags) {
				continue
			}
			if w.Hash == "" {
				return nil, fmt.Errorf("the wheel %s has no hash", name)
			}
			hashes = append(hashes, w.Hash)
		}
	}
	if p.Sdist != nil {
		if p.Sdist.Hash == "" {
			return nil, fmt.Errorf("its sdist has no hash")
		}
		hashes = append(hashes, p.Sdist.Hash)
	}
	if len(hashes) == 0 {
		why := "no wheel for this interpreter"
		if noBinary {
			why = "tool.uv no-binary asks for an sdist"
		}
		return nil, fmt.Errorf("no hash for this platform: %s (python %s, %s %s) and no sdist in the lock",
			why, env.Vars["python_full_version"], env.Vars["sys_platform"], env.Vars["platform_machine"])
	}
	return hashes, nil
}

// uvGitRequirement is a uv git source ("URL?rev=...&subdirectory=...#COMMIT")
// as a pip requirement line (vcsRequirement).
func uvGitRequirement(name, src string) (string, error) {
	u, err := url.Parse(src)
	if err != nil {
		return "", fmt.Errorf("git source %q: %v", src, err)
	}
	commit := u.Fragment
	if commit == "" {
		return "", fmt.Errorf("git source %q has no commit", src)
	}
	sub := u.Query().Get("subdirectory")
	u.Fragment, u.RawFragment, u.RawQuery = "", "", ""
	return vcsRequirement(name, "git", u.String(), commit, sub), nil
}

// uvNoBinary reads tool.uv no-binary / no-binary-package: which packages
// uv sync builds from their sdist ("*" for all).
func uvNoBinary(pyproject []byte) (map[string]bool, error) {
	var pp struct {
		Tool struct {
			Uv struct {
				NoBinary        bool     `toml:"no-binary"`
				NoBinaryPackage []string `toml:"no-binary-package"`
			} `toml:"uv"`
		} `toml:"tool"`
	}
	if _, err := toml.Decode(string(pyproject), &pp); err != nil {
		return nil, &LockError{fmt.Sprintf("pyproject.toml is corrupt: %v", err)}
	}
	out := map[string]bool{}
	if pp.Tool.Uv.NoBinary {
		out["*"] = true
	}
	for _, n := range pp.Tool.Uv.NoBinaryPackage {
		out[NormalizeName(n)] = true
	}
	return out, nil
}

var extraMarkerRE = regexp.MustCompile(`extra\s*==\s*['"]([^'"]+)['"]`)

// checkUvFresh compares the recorded requirements (requires-dist,
// requires-dev) of the lock's local projects (the root, workspace members,
// path dependencies) with their pyproject.toml, as uv sync --locked does: a
// changed, added or removed requirement or group makes the lock stale.
// Markers are compared only through the extra they belong to (uv rewrites
// the rest). readPyproject returns the pyproject.toml of a directory
// relative to the lock, nil when there is none; a project whose
// pyproject.toml is not in the source (outside it) is not checked.
func checkUvFresh(l uvLock, readPyproject func(rel string) []byte) error {
	for _, p := range l.Packages {
		kind, rel := sourcePath(p.Source)
		if kind == "" {
			continue
		}
		pyproject := readPyproject(rel)
		if pyproject == nil {
			if rel == "." {
				return &LockError{"uv.lock found but no pyproject.toml beside it to check it against"}
			}
			continue
		}
		file := path.Join(rel, "pyproject.toml")
		want, wantGroups, err := pyprojectRequirements(pyproject)
		if err != nil {
			return err
		}
		got := map[string]int{}
		for _, rq := range p.Metadata.RequiresDist {
			extra := ""
			if m := extraMarkerRE.FindStringSubmatch(rq.Marker); m != nil {
				extra = NormalizeName(m[1])
			}
			got[reqKey(NormalizeName(rq.Name), normExtras(rq.Extras), normSpecifier(rq.Specifier), extra)]++
		}
		if d := diffKeys(want, got); d != "" {
			return &LockError{fmt.Sprintf("uv.lock needs to be updated, but --locked was given: the requirements of %s in %s differ from the lock (%s); run uv lock", p.Name, file, d)}
		}
		gotGroups := map[string]map[string]int{}
		for g, reqs := range p.Metadata.RequiresDev {
			m := map[string]int{}
			for _, rq := range reqs {
				m[reqKey(NormalizeName(rq.Name), normExtras(rq.Extras), normSpecifier(rq.Specifier), "")]++
			}
			gotGroups[NormalizeName(g)] = m
		}
		for g, w := range wantGroups {
			if d := diffKeys(w, gotGroups[g]); d != "" {
				return &LockError{fmt.Sprintf("uv.lock needs to be updated, but --locked was given: dependency group %s in %s differs from the lock (%s); run uv lock", g, file, d)}
			}
		}
		for g := range gotGroups {
			if _, ok := wantGroups[g]; !ok {
				return &LockError{fmt.Sprintf("uv.lock needs to be updated, but --locked was given: dependency group %s is in the lock but not in %s; run uv lock", g, file)}
			}
		}
	}
	return nil
}

// checkUvManifestFresh compares a virtual workspace root's groups
// ([manifest.dependency-groups]) with its pyproject.toml's.
func checkUvManifestFresh(l uvLock, pyproject []byte) error {
	if l.Manifest.DependencyGroups == nil {
		return nil
	}
	_, want, err := pyprojectRequirements(pyproject)
	if err != nil {
		return err
	}
	got := map[string]map[string]int{}
	for g, reqs := range l.Manifest.DependencyGroups {
		m := map[string]int{}
		for _, rq := range reqs {
			m[reqKey(NormalizeName(rq.Name), normExtras(rq.Extras), normSpecifier(rq.Specifier), "")]++
		}
		got[NormalizeName(g)] = m
	}
	for g := range want {
		if _, ok := got[g]; !ok {
			got[g] = map[string]int{}
		}
	}
	for g, m := range got {
		if d := diffKeys(want[g], m); d != "" {
			return &LockError{fmt.Sprintf("uv.lock needs to be updated, but --locked was given: dependency group %s of the workspace root in pyproject.toml differs from the lock (%s); run uv lock", g, d)}
		}
	}
	return nil
}

func reqKey(name, extras, spec, extra string) string {
	k := name
	if extras != "" {
		k += "[" + extras + "]"
	}
	k += spec
	if extra != "" {
		k += " (extra " + extra + ")"
	}
	return k
}

// diffKeys describes how two multisets of requirement keys differ.
func diffKeys(want, got map[string]int) string {
	var add, del []string
	for k, n := range want {
		if got[k] < n {
			add = append(add, k)
		}
	}
	for k, n := range got {
		if want[k] < n {
			del = append(del, k)
		}
	}
	sort.Strings(add)
	sort.Strings(del)
	var parts []string
	if len(add) > 0 {
		parts = append(parts, "not in the lock: "+strings.Join(add, ", "))
	}
	if len(del) > 0 {
		parts = append(parts, "only in the lock: "+strings.Join(del, ", "))
	}
	return strings.Join(parts, "; ")
}

// pyprojectRequirements are a pyproject.toml's requirement keys: the
// project's dependencies and optional dependencies, and per group its
// dependency-groups (include-group expanded) and tool.uv dev-dependencies
// (in "dev").
func pyprojectRequirements(pyproject []byte) (map[string]int, map[string]map[string]int, error) {
	var pp struct {
		Project struct {
			Dependencies []string            `toml:"dependencies"`
			Optional     map[string][]string `toml:"optional-dependencies"`
		} `toml:"project"`
		Groups map[string][]any `toml:"dependency-groups"`
		Tool   struct {
			Uv struct {
				DevDependencies []string `toml:"dev-dependencies"`
			} `toml:"uv"`
		} `toml:"tool"`
	}
	if _, err := toml.Decode(string(pyproject), &pp); err != nil {
		return nil, nil, &LockError{fmt.Sprintf("pyproject.toml is corrupt: %v", err)}
	}
	key := func(s, extra string) (string, error) {
		r, err := parsePEP508(s)
		if err != nil {
			return "", &LockError{fmt.Sprintf("pyproject.toml: %v", err)}
		}
		return reqKey(r.Name, r.Extras, r.Specifier, extra), nil
	}
	deps := map[string]int{}
	for _, s := range pp.Project.Dependencies {
		k, err := key(s, "")
		if err != nil {
			return nil, nil, err
		}
		deps[k]++
	}
	for e, list := range pp.Project.Optional {
		for _, s := range list {
			k, err := key(s, NormalizeName(e))
			if err != nil {
				return nil, nil, err
			}
			deps[k]++
		}
	}
	groups := map[string]map[string]int{}
	var expand func(g string, depth int) ([]string, error)
	expand = func(g string, depth int) ([]string, error) {
		if depth > 20 {
			return nil, &LockError{"pyproject.toml: dependency-groups include each other in a cycle"}
		}
		var out []string
		for name, items := range pp.Groups {
			if NormalizeName(name) != NormalizeName(g) {
				continue
			}
			for _, it := range items {
				switch v := it.(type) {
				case string:
					out = append(out, v)
				case map[string]any:
					inc, _ := v["include-group"].(string)
					sub, err := expand(inc, depth+1)
					if err != nil {
						return nil, err
					}
					out = append(out, sub...)
				}
			}
		}
		return out, nil
	}
	for name := range pp.Groups {
		list, err := expand(name, 0)
		if err != nil {
			return nil, nil, err
		}
		m := map[string]int{}
		for _, s := range list {
			k, err := key(s, "")
			if err != nil {
				return nil, nil, err
			}
			m[k]++
		}
		groups[NormalizeName(name)] = m
	}
	if len(pp.Tool.Uv.DevDependencies) > 0 {
		m := groups["dev"]
		if m == nil {
			m = map[string]int{}
			groups["dev"] = m
		}
		for _, s := range pp.Tool.Uv.DevDependencies {
			k, err := key(s, "")
			if err != nil {
				return nil, nil, err
			}
			m[k]++
		}
	}
	return deps, groups, nil
}
