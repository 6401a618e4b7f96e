package marker

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Version is a PEP 440 version.
type Version struct {
	Epoch   int
	Release []int
	Pre     *preRelease // a, b, rc
	Post    int         // -1: none
	Dev     int         // -1: none
	Local   []string
	text    string
}

type preRelease struct {
	Kind string // "a", "b", "rc"
	N    int
}

var versionRE = regexp.MustCompile(`(?i)^\s*v?(?:(\d+)!)?(\d+(?:\.\d+)*)` +
	`(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?` +
	`(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?` +
	`(?:[-_.]?(dev)[-_.]?(\d+)?)?` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$`)

// ParseVersion parses a PEP 440 version.
func ParseVersion(s string) (Version, error) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("invalid version %q", s)
	}
	v := Version{Post: -1, Dev: -1, text: strings.TrimSpace(s)}
	if m[1] != "" {
		v.Epoch = atoi(m[1])
	}
	for _, p := range strings.Split(m[2], ".") {
		v.Release = append(v.Release, atoi(p))
	}
	if m[3] != "" {
		kind := strings.ToLower(m[3])
		switch kind {
		case "alpha":
			kind = "a"
		case "beta":
			kind = "b"
		case "c", "pre", "preview":
			kind = "rc"
		}
		v.Pre = &preRelease{kind, atoi(m[4])}
	}
	switch {
	case m[5] != "":
		v.Post = atoi(m[5])
	case m[6] != "":
		v.Post = atoi(m[7])
	}
	if m[8] != "" {
		v.Dev = atoi(m[9])
	}
	if m[10] != "" {
		v.Local = strings.FieldsFunc(strings.ToLower(m[10]), func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	}
	return v, nil
}

func atoi(s string) int {
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return int(^uint(0) >> 1) // absurdly large: compares after every real number
	}
	return n
}

// IsPrerelease: a pre or dev release.
func (v Version) IsPrerelease() bool { return v.Pre != nil || v.Dev >= 0 }

// IsPostrelease: a post release.
func (v Version) IsPostrelease() bool { return v.Post >= 0 }

// public is v without its local label.
func (v Version) public() Version { v.Local = nil; return v }

// base is epoch and release only.
func (v Version) base() Version {
	return Version{Epoch: v.Epoch, Release: v.Release, Post: -1, Dev: -1}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Compare orders two versions as PEP 440 does (-1, 0, 1).
func Compare(a, b Version) int {
	if c := cmpInt(a.Epoch, b.Epoch); c != 0 {
		return c
	}
	n := max(len(a.Release), len(b.Release))
	for i := 0; i < n; i++ {
		x, y := 0, 0
		if i < len(a.Release) {
			x = a.Release[i]
		}
		if i < len(b.Release) {
			y = b.Release[i]
		}
		if c := cmpInt(x, y); c != 0 {
			return c
		}
	}
	if c := cmpInt(preKey(a), preKey(b)); c != 0 {
		return c
	}
	if a.Pre != nil && b.Pre != nil {
		if c := cmpInt(a.Pre.N, b.Pre.N); c != 0 {
			return c
		}
	}
	if c := cmpInt(a.Post, b.Post); c != 0 { // -1 (none) sorts first
		return c
	}
	// dev: none sorts last
	ad, bd := a.Dev, b.Dev
	if ad < 0 {
		ad = int(^uint(0) >> 1)
	}
	if bd < 0 {
		bd = int(^uint(0) >> 1)
	}
	if c := cmpInt(ad, bd); c != 0 {
		return c
	}
	return compareLocal(a.Local, b.Local)
}

// preKey ranks the pre-release phase: a dev release of a final version
// (1.0.dev1) sorts before its alphas; no pre-release sorts after rc.
func preKey(v Version) int {
	if v.Pre == nil {
		if v.Dev >= 0 && v.Post < 0 {
			return -1
		}
		return 4
	}
	return map[string]int{"a": 1, "b": 2, "rc": 3}[v.Pre.Kind]
}

func compareLocal(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		an, aerr := strconv.Atoi(a[i])
		bn, berr := strconv.Atoi(b[i])
		switch {
		case aerr == nil && berr == nil:
			if c := cmpInt(an, bn); c != 0 {
				return c
			}
		case aerr == nil: // numeric sorts after alphanumeric
			return 1
		case berr == nil:
			return -1
		default:
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(a), len(b))
}

// specMatch reports whether version v satisfies "op spec" (PEP 440
// specifier semantics, pre-releases allowed, as markers evaluate them). ok
// is false when spec is not a valid version for op.
func specMatch(v Version, op, spec string) (match, ok bool) {
	if op == "===" {
		return strings.EqualFold(strings.TrimSpace(v.text), strings.TrimSpace(spec)), true
	}
	if op == "==" || op == "!=" {
		if prefix, wild := strings.CutSuffix(strings.TrimSpace(spec), ".*"); wild {
			s, err := ParseVersion(prefix)
			if err != nil || len(s.Local) > 0 || s.Pre != nil || s.Post >= 0 || s.Dev >= 0 {
				return false, false
			}
			eq := prefixMatch(v, s)
			return eq == (op == "=="), true
		}
	}
	s, err := ParseVersion(spec)
	if err != nil {
		return false, false
	}
	switch op {
	case "==", "!=":
		cand := v
		if len(s.Local) == 0 {
			cand = v.public()
		}
		eq := Compare(cand, s) == 0
		return eq == (op == "=="), true
	case "<=":
		if len(s.Local) > 0 {
			return false, false
		}
		return Compare(v.public(), s) <= 0, true
	case ">=":
		if len(s.Local) > 0 {
			return false, false
		}
		return Compare(v.public(), s) >= 0, true
	case "<":
		if len(s.Local) > 0 {
			return false, false
		}
		if Compare(v.public(), s) >= 0 {
			return false, true
		}
		if !s.IsPrerelease() && v.IsPrerelease() && Compare(v.base(), s.base()) == 0 {
			return false, true
		}
		return true, true
	case ">":
		if len(s.Local) > 0 {
			return false, false
		}
		if Compare(v.public(), s) <= 0 {
			return false, true
		}
		if !s.IsPostrelease() && v.IsPostrelease() && Compare(v.base(), s.base()) == 0 {
			return false, true
		}
		if len(v.Local) > 0 && Compare(v.base(), s.base()) == 0 {
			return false, true
		}
		return true, true
	case "~=":
		if len(s.Local) > 0 || len(s.Release) < 2 {
			return false, false
		}
		if Compare(v.public(), s) < 0 {
			return false, true
		}
		p := Version{Epoch: s.Epoch, Release: s.Release[:len(s.Release)-1], Post: -1, Dev: -1}
		return prefixMatch(v, p), true
	}
	return false, false
}

// prefixMatch is "== prefix.*": v's release (zero padded) starts with the
// prefix's, same epoch; v's local label is ignored.
func prefixMatch(v, prefix Version) bool {
	if v.Epoch != prefix.Epoch {
		return false
	}
	for i, p := range prefix.Release {
		x := 0
		if i < len(v.Release) {
			x = v.Release[i]
		}
		if x != p {
			return false
		}
	}
	return true // as packaging: 1.0a1 and 1.0.dev1 match ==1.0.*
}

// Satisfies reports whether version satisfies a comma-separated specifier
// set (">=3.11, <4", "~=3.11.0"); an empty set allows every version.
func Satisfies(version, set string) (bool, error) {
	v, err := ParseVersion(version)
	if err != nil {
		return false, err
	}
	for _, clause := range strings.Split(set, ",") {
		clause = strings.TrimSpace(clause)
		if clause == "" {
			continue
		}
		op := opRE.FindString(clause)
		if op == "" {
			return false, fmt.Errorf("invalid version specifier %q", clause)
		}
		m, ok := specMatch(v, op, strings.TrimSpace(clause[len(op):]))
		if !ok {
			return false, fmt.Errorf("invalid version specifier %q", clause)
		}
		if !m {
			return false, nil
		}
	}
	return true, nil
}

// Canonical is v in PEP 440's normal form ("1.0rc1" for "1.0-RC1",
// "1.0.post1" for "1.0-1"); trailing zeros of the release are kept.
func (v Version) Canonical() string {
	var b strings.Builder
	if v.Epoch != 0 {
		fmt.Fprintf(&b, "%d!", v.Epoch)
	}
	for i, r := range v.Release {
		if i > 0 {
			b.WriteByte('.')
		}
		fmt.Fprint(&b, r)
	}
	if v.Pre != nil {
		fmt.Fprintf(&b, "%s%d", v.Pre.Kind, v.Pre.N)
	}
	if v.Post >= 0 {
		fmt.Fprintf(&b, ".post%d", v.Post)
	}
	if v.Dev >= 0 {
		fmt.Fprintf(&b, ".dev%d", v.Dev)
	}
	if len(v.Local) > 0 {
		b.WriteString("+" + strings.Join(v.Local, "."))
	}
	return b.String()
}

// CanonicalSpecifier is a specifier set with its clauses' versions in
// normal form, without spaces, sorted: two spellings of one set compare
// equal ("flask >= 2.0 , <3" and "<3,>=2.0"). A clause that is not a
// valid specifier is kept as written (without spaces).
func CanonicalSpecifier(set string) string {
	var out []string
	for _, clause := range strings.Split(set, ",") {
		clause = strings.ReplaceAll(strings.TrimSpace(clause), " ", "")
		if clause == "" {
			continue
		}
		op := opRE.FindString(clause)
		rest := clause[len(op):]
		wild := ""
		if r, ok := strings.CutSuffix(rest, ".*"); ok {
			rest, wild = r, ".*"
		}
		if v, err := ParseVersion(rest); err == nil && op != "" && op != "===" {
			clause = op + v.Canonical() + wild
		}
		out = append(out, clause)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
