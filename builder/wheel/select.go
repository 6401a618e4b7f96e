package wheel

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// File is one distribution file an index lists for a project.
type File struct {
	Filename       string
	URL            string // absolute, credentials included as the index gave them
	SHA256         string // hex, from the index ("" when it gives none)
	RequiresPython string
	Yanked         bool
}

// WheelName is a parsed wheel filename (PEP 427):
// {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl.
type WheelName struct {
	Name, Version, Build string
	Tags                 []string // every python-abi-platform combination
}

// ParseWheelName parses a wheel filename as pip's Wheel model does.
func ParseWheelName(filename string) (WheelName, error) {
	base, ok := strings.CutSuffix(filename, ".whl")
	if !ok {
		return WheelName{}, fmt.Errorf("%s: not a wheel", filename)
	}
	parts := strings.Split(base, "-")
	var w WheelName
	switch len(parts) {
	case 5:
		w = WheelName{Name: parts[0], Version: parts[1]}
	case 6:
		w = WheelName{Name: parts[0], Version: parts[1], Build: parts[2]}
		if !buildRE.MatchString(w.Build) {
			return WheelName{}, fmt.Errorf("%s: invalid build tag %q", filename, w.Build)
		}
	default:
		return WheelName{}, fmt.Errorf("%s: invalid wheel filename", filename)
	}
	py, abi, plat := parts[len(parts)-3], parts[len(parts)-2], parts[len(parts)-1]
	for _, x := range strings.Split(py, ".") {
		for _, y := range strings.Split(abi, ".") {
			for _, z := range strings.Split(plat, ".") {
				w.Tags = append(w.Tags, x+"-"+y+"-"+z)
			}
		}
	}
	return w, nil
}

var buildRE = regexp.MustCompile(`^(\d+)(.*)$`)

// Choice is the file pip would install for a pinned requirement, or why
// there is none this installer may take (pip then installs it).
type Choice struct {
	File   File
	Wheel  WheelName
	Reason string // set when the distribution goes to pip
}

// Choose picks among the files an index lists for one project what pip's
// finder picks for name==version with the allowed sha256 hashes: wheels
// whose tags the interpreter supports (tags in pip's order, most preferred
// first) and whose Requires-Python holds, then the best by pip's sort key
// (allowed hash, not yanked, tag priority, build tag). An sdist that would
// win, or no candidate at all, is a Reason.
func Choose(files []File, project, version string, allowed map[string]bool, tags []string, python string) Choice {
	prio := make(map[string]int, len(tags))
	for i, t := range tags {
		if _, ok := prio[t]; !ok {
			prio[t] = i
		}
	}
	type cand struct {
		f       File
		w       WheelName
		wheel   bool
		allowed bool
		pri     int // lower is better
		build   int
		buildS  string
	}
	var best *cand
	better := func(a, b *cand) bool { // a preferred over b
		if a.allowed != b.allowed {
			return a.allowed
		}
		if a.f.Yanked != b.f.Yanked {
			return !a.f.Yanked
		}
		if a.pri != b.pri {
			return a.pri < b.pri
		}
		if a.build != b.build {
			return a.build > b.build
		}
		return a.buildS > b.buildS
	}
	unknownHash := false
	for _, f := range files {
		c := cand{f: f, pri: len(tags)}
		if w, err := ParseWheelName(f.Filename); err == nil {
			if NormalizeName(w.Name) != project || !SameVersion(w.Version, version) {
				continue
			}
			c.wheel, c.w = true, w
			c.pri = -1
			for _, t := range w.Tags {
				if p, ok := prio[t]; ok && (c.pri < 0 || p < c.pri) {
					c.pri = p
				}
			}
			if c.pri < 0 {
				continue // no supported tag
			}
			if w.Build != "" {
				m := buildRE.FindStringSubmatch(w.Build)
				c.build, _ = strconv.Atoi(m[1])
				c.buildS = m[2]
			} else {
				c.build = -1
			}
		} else {
			v, ok := sdistVersion(f.Filename, project)
			if !ok || !SameVersion(v, version) {
				continue
			}
		}
		if f.RequiresPython != "" {
			ok, err := RequiresPython(f.RequiresPython, python)
			if err != nil {
				return Choice{Reason: fmt.Sprintf("%s: Requires-Python %q: %v", f.Filename, f.RequiresPython, err)}
			}
			if !ok {
				continue
			}
		}
		if f.SHA256 == "" {
			unknownHash = true
		}
		c.allowed = allowed[strings.ToLower(f.SHA256)]
		if best == nil || better(&c, best) {
			cc := c
			best = &cc
		}
	}
	switch {
	case best == nil:
		return Choice{Reason: fmt.Sprintf("no file for %s %s matches this interpreter", project, version)}
	case unknownHash:
		return Choice{Reason: "the index gives no sha256 for some of its files"}
	case !best.allowed:
		return Choice{Reason: "no file with an allowed hash"}
	case !best.wheel:
		return Choice{Reason: "no wheel for this interpreter (an sdist)"}
	}
	return Choice{File: best.f, Wheel: best.w}
}

// sdistVersion is the version of an sdist filename for project.
func sdistVersion(filename, project string) (string, bool) {
	for _, ext := range []string{".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".tbz", ".txz", ".tlz", ".tar.lz", ".tar.lzma"} {
		if base, ok := strings.CutSuffix(strings.ToLower(filename), ext); ok {
			i := strings.LastIndexByte(base, '-')
			if i < 0 || NormalizeName(base[:i]) != project {
				return "", false
			}
			return base[i+1:], true
		}
	}
	return "", false
}

// NormalizeName is PEP 503 normalization.
func NormalizeName(name string) string {
	return strings.ToLower(normRE.ReplaceAllString(name, "-"))
}

var normRE = regexp.MustCompile(`[-_.]+`)

// SameVersion compares two PEP 440 versions for "==" (release segments
// padded with zeros, case and the separators of pre/post/dev releases and
// a leading v ignored). A version it cannot read equals only itself.
func SameVersion(a, b string) bool {
	ca, oka := canonicalVersion(a)
	cb, okb := canonicalVersion(b)
	if !oka || !okb {
		return strings.EqualFold(a, b)
	}
	return ca == cb
}

var versionRE = regexp.MustCompile(`^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d*))?(?:[-_.]?(dev)[-_.]?(\d*))?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$`)

func canonicalVersion(v string) (string, bool) {
	m := versionRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(v)))
	if m == nil {
		return "", false
	}
	num := func(s string) string {
		n, _ := strconv.Atoi(s)
		return strconv.Itoa(n)
	}
	var b strings.Builder
	if m[1] != "" {
		b.WriteString(num(m[1]) + "!")
	}
	rel := strings.Split(m[2], ".")
	for len(rel) > 1 && num(rel[len(rel)-1]) == "0" {
		rel = rel[:len(rel)-1]
	}
	for i, r := range rel {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(num(r))
	}
	if m[3] != "" {
		pre := map[string]string{"a": "a", "alpha": "a", "b": "b", "beta": "b", "c": "rc", "rc": "rc", "pre": "rc", "preview": "rc"}[m[3]]
		b.WriteString(pre + num(m[4]))
	}
	if m[5] != "" {
		b.WriteString(".post" + num(m[5]))
	} else if m[6] != "" {
		b.WriteString(".post" + num(m[7]))
	}
	if m[8] != "" {
		b.WriteString(".dev" + num(m[9]))
	}
	if m[10] != "" {
		b.WriteString("+" + regexp.MustCompile(`[-_]`).ReplaceAllString(m[10], "."))
	}
	return b.String(), true
}

// RequiresPython evaluates a Requires-Python specifier set for a
// "major.minor.micro" interpreter version. It reads the operators
// ==, !=, <=, >=, <, >, ~= on release versions (== and != with .*); anything
// else is an error (pip decides then).
func RequiresPython(spec, python string) (bool, error) {
	have := releaseInts(python)
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		m := specRE.FindStringSubmatch(s)
		if m == nil {
			return false, fmt.Errorf("cannot read %q", s)
		}
		op, ver := m[1], m[2]
		wild := strings.HasSuffix(ver, ".*")
		want := releaseInts(strings.TrimSuffix(ver, ".*"))
		if wild && op != "==" && op != "!=" {
			return false, fmt.Errorf("cannot read %q", s)
		}
		var ok bool
		switch {
		case wild:
			ok = prefixEq(have, want) == (op == "==")
		case op == "==":
			ok = cmpRel(have, want) == 0
		case op == "!=":
			ok = cmpRel(have, want) != 0
		case op == ">=":
			ok = cmpRel(have, want) >= 0
		case op == "<=":
			ok = cmpRel(have, want) <= 0
		case op == ">":
			ok = cmpRel(have, want) > 0
		case op == "<":
			ok = cmpRel(have, want) < 0
		case op == "~=":
			if len(want) < 2 {
				return false, fmt.Errorf("cannot read %q", s)
			}
			ok = cmpRel(have, want) >= 0 && prefixEq(have, want[:len(want)-1])
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

var specRE = regexp.MustCompile(`^(~=|==|!=|<=|>=|<|>)\s*(\d+(?:\.\d+)*(?:\.\*)?)$`)

func releaseInts(v string) []int {
	var out []int
	for _, p := range strings.Split(v, ".") {
		n, _ := strconv.Atoi(p)
		out = append(out, n)
	}
	return out
}

func cmpRel(a, b []int) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func prefixEq(have, prefix []int) bool {
	for i, p := range prefix {
		h := 0
		if i < len(have) {
			h = have[i]
		}
		if h != p {
			return false
		}
	}
	return true
}
