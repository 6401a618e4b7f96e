package pyindex

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Pin is one line of pins.txt: a requirement in pip's syntax, resolved with
// its dependencies into wheels for every target, or (Sdist) one source
// distribution, name==version, without dependencies.
type Pin struct {
	Req   string
	Sdist bool
	Line  int
}

// sdistFlag marks a pins.txt line whose file is the source distribution
// (pip's per-requirement option spelling).
const sdistFlag = "--no-binary"

// ParsePins reads pins.txt: one requirement per line, "#" comments, and
// "--no-binary" after a name==version for a source distribution.
func ParsePins(text string) ([]Pin, error) {
	var pins []Pin
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		if c := strings.Index(line, "#"); c >= 0 {
			line = line[:c]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		p := Pin{Req: f[0], Line: i + 1}
		for _, opt := range f[1:] {
			if opt != sdistFlag {
				return nil, fmt.Errorf("pins.txt:%d: unknown option %q (only %s)", i+1, opt, sdistFlag)
			}
			p.Sdist = true
		}
		if p.Sdist {
			if _, _, err := SdistPin(p.Req); err != nil {
				return nil, fmt.Errorf("pins.txt:%d: %w", i+1, err)
			}
		}
		key := p.Req
		if p.Sdist {
			key += " " + sdistFlag
		}
		if prev, dup := seen[key]; dup {
			return nil, fmt.Errorf("pins.txt:%d: %s already on line %d", i+1, key, prev)
		}
		seen[key] = i + 1
		pins = append(pins, p)
	}
	if len(pins) == 0 {
		return nil, fmt.Errorf("pins.txt: no pins")
	}
	return pins, nil
}

var sdistPinRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)$`)

// SdistPin splits "name==version"; a source distribution is always pinned
// exactly (its file is chosen by name, not by a resolver).
func SdistPin(req string) (name, version string, err error) {
	m := sdistPinRE.FindStringSubmatch(req)
	if m == nil {
		return "", "", fmt.Errorf("%q: a %s line must be name==version", req, sdistFlag)
	}
	return m[1], m[2], nil
}

// Target is an interpreter the index serves wheels for.
type Target struct {
	Name    string // "cp311"
	Python  string // "3.11"
	Primary bool   // a pin that resolves for no other target is fine; for this one it is an error
}

// Targets are the interpreters of the world's images: Debian bookworm's
// 3.11, and 3.13 (trixie) where wheels exist.
var Targets = []Target{
	{Name: "cp311", Python: "3.11", Primary: true},
	{Name: "cp313", Python: "3.13"},
}

// glibc of the images' base (bookworm: 2.36); every manylinux tag up to
// it is accepted, as pip on that system would.
const glibcMinor = 36

// PipTargetArgs are pip's options that select target t's manylinux x86_64
// wheels on any host.
func PipTargetArgs(t Target) []string {
	args := []string{"--platform", "manylinux2014_x86_64"}
	for m := 17; m <= glibcMinor; m++ {
		args = append(args, "--platform", fmt.Sprintf("manylinux_2_%d_x86_64", m))
	}
	return append(args, "--python-version", t.Python, "--implementation", "cp",
		"--abi", t.Name, "--only-binary=:all:")
}

// LockedFile is one distribution file of the index.
type LockedFile struct {
	Name           string `json:"name"` // normalized project name
	Version        string `json:"version"`
	Filename       string `json:"filename"`
	SHA256         string `json:"sha256"`
	RequiresPython string `json:"requires_python,omitempty"`
	URL            string `json:"url"`
}

// Lock is lock.json: every file the index serves.
type Lock struct {
	Files []LockedFile `json:"files"`
}

//go:embed pins.txt
var defaultPins string

//go:embed lock.json
var defaultLockJSON []byte

// DefaultPins returns pins.txt as shipped.
func DefaultPins() string { return defaultPins }

// DefaultLock returns lock.json as shipped: the index of the integration
// tests.
func DefaultLock() Lock {
	l, err := ParseLock(defaultLockJSON)
	if err != nil {
		panic("pyindex: embedded lock.json: " + err.Error())
	}
	return l
}

var sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseLock decodes and checks lock.json.
func ParseLock(b []byte) (Lock, error) {
	var l Lock
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return Lock{}, err
	}
	return l, l.Check()
}

// Check refuses a lock that could not be laid out as one index: a missing
// field, a bad hash, a file name that is no plain name, a name twice.
func (l Lock) Check() error {
	if len(l.Files) == 0 {
		return fmt.Errorf("lock: no files")
	}
	seen := map[string]bool{}
	for _, f := range l.Files {
		switch {
		case f.Name == "" || f.Version == "" || f.URL == "":
			return fmt.Errorf("lock: %s: name, version and url are required", f.Filename)
		case f.Name != NormalizeName(f.Name):
			return fmt.Errorf("lock: %s: name %q is not normalized", f.Filename, f.Name)
		case !sha256RE.MatchString(f.SHA256):
			return fmt.Errorf("lock: %s: bad sha256 %q", f.Filename, f.SHA256)
		case f.Filename == "" || path.Base(f.Filename) != f.Filename || strings.HasPrefix(f.Filename, ".") ||
			!(strings.HasSuffix(f.Filename, ".whl") || strings.HasSuffix(f.Filename, ".tar.gz") || strings.HasSuffix(f.Filename, ".zip")):
			return fmt.Errorf("lock: bad file name %q", f.Filename)
		case seen[f.Filename]:
			return fmt.Errorf("lock: %s listed twice", f.Filename)
		}
		seen[f.Filename] = true
	}
	return nil
}

// Marshal writes the lock sorted, one file a line, so that a change is a
// readable diff.
func (l Lock) Marshal() []byte {
	files := append([]LockedFile(nil), l.Files...)
	sort.Slice(files, func(i, j int) bool {
		if files[i].Name != files[j].Name {
			return files[i].Name < files[j].Name
		}
		return files[i].Filename < files[j].Filename
	})
	var b bytes.Buffer
	b.WriteString("{\"files\": [\n")
	for i, f := range files {
		line, err := json.Marshal(f)
		if err != nil {
			panic(err) // strings only
		}
		b.WriteString("  ")
		b.Write(line)
		if i < len(files)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// Merge adds files to the lock; the same file name with another hash is an
// error (an index serves one file per name).
func (l *Lock) Merge(files ...LockedFile) error {
	idx := map[string]int{}
	for i, f := range l.Files {
		idx[f.Filename] = i
	}
	for _, f := range files {
		if i, ok := idx[f.Filename]; ok {
			if l.Files[i].SHA256 != f.SHA256 {
				return fmt.Errorf("%s resolved with two hashes: %s and %s", f.Filename, l.Files[i].SHA256, f.SHA256)
			}
			continue
		}
		idx[f.Filename] = len(l.Files)
		l.Files = append(l.Files, f)
	}
	return nil
}

// FileNameFromURL is the last path segment of a distribution URL, unescaped.
func FileNameFromURL(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	name := path.Base(p.Path)
	if name == "." || name == "/" || name == "" {
		return "", fmt.Errorf("no file name in %s", u)
	}
	return name, nil
}

var nameRuns = regexp.MustCompile(`[-_.]+`)

// NormalizeName is the PEP 503 normalized form of a project name: lowercase,
// runs of "-", "_" and "." become one "-" ("Flask" -> "flask",
// "charset_normalizer" -> "charset-normalizer").
func NormalizeName(name string) string {
	return strings.ToLower(nameRuns.ReplaceAllString(name, "-"))
}

// Newest is the newest version of project name in the lock ("" if none),
// as pip would pick it. The lock holds final releases only (pip resolves no
// pre-releases unless asked), so release numbers compare numerically and a
// post-release follows its release.
func (l Lock) Newest(name string) string {
	best := ""
	for _, f := range l.Files {
		if f.Name == NormalizeName(name) && (best == "" || compareVersions(f.Version, best) > 0) {
			best = f.Version
		}
	}
	return best
}

// compareVersions orders final releases like "2.0.30.post1" and "2.0.31".
func compareVersions(a, b string) int {
	ra, pa := splitRelease(a)
	rb, pb := splitRelease(b)
	for i := 0; i < max(len(ra), len(rb)); i++ {
		var x, y int
		if i < len(ra) {
			x = ra[i]
		}
		if i < len(rb) {
			y = rb[i]
		}
		if x != y {
			return cmpInt(x, y)
		}
	}
	return cmpInt(pa, pb)
}

func cmpInt(x, y int) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// splitRelease returns the release numbers and the post-release number
// (-1 without one).
func splitRelease(v string) ([]int, int) {
	var rel []int
	post := -1
	for _, seg := range strings.Split(v, ".") {
		if n, err := strconv.Atoi(seg); err == nil && post < 0 {
			rel = append(rel, n)
			continue
		}
		if p, ok := strings.CutPrefix(seg, "post"); ok {
			if n, err := strconv.Atoi(p); err == nil {
				post = n
			}
		}
	}
	return rel, post
}
