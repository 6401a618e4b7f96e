package builder

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/pys2i/pys2i/builder/marker"
)

// Helpers shared by the uv.lock and pylock.toml converters.

// LockChoice is what to install from a lock besides its main
// dependencies: the project's extras and dependency groups.
type LockChoice struct {
	Extras []string // PYS2I_LOCK_EXTRAS
	Groups []string // PYS2I_LOCK_GROUPS
}

// wheelCompatible reports whether a wheel file name has a tag the
// interpreter accepts (tags: PythonEnv.Tags).
func wheelCompatible(filename string, tags map[string]bool) bool {
	base := strings.TrimSuffix(path.Base(filename), ".whl")
	parts := strings.Split(base, "-")
	if len(parts) < 5 {
		return false
	}
	py, abi, plat := parts[len(parts)-3], parts[len(parts)-2], parts[len(parts)-1]
	for _, p := range strings.Split(py, ".") {
		for _, a := range strings.Split(abi, ".") {
			for _, pl := range strings.Split(plat, ".") {
				if tags[p+"-"+a+"-"+pl] {
					return true
				}
			}
		}
	}
	return false
}

// fileName is the last path element of a URL or path.
func fileName(u string) string {
	if pu, err := url.Parse(u); err == nil && pu.Path != "" {
		return path.Base(pu.Path)
	}
	return path.Base(filepath.ToSlash(u))
}

// checkRequiresPython fails when the interpreter is outside spec.
func checkRequiresPython(file, what, spec string, env PythonEnv) error {
	if strings.TrimSpace(spec) == "" {
		return nil
	}
	ok, err := marker.Satisfies(env.Vars["python_full_version"], spec)
	if err != nil {
		return &LockError{fmt.Sprintf("%s: %s requires-python %q: %v", file, what, spec, err)}
	}
	if !ok {
		return &LockError{fmt.Sprintf("%s: %s requires Python %s, but the venv runs Python %s", file, what, spec, env.Vars["python_full_version"])}
	}
	return nil
}

// evalMarker evaluates a lock's marker; an unreadable one is a LockError
// naming the file and the package.
func evalMarker(file, what, m string, env marker.Env) (bool, error) {
	if strings.TrimSpace(m) == "" {
		return true, nil
	}
	ok, err := marker.Evaluate(m, env)
	if err != nil {
		return false, &LockError{fmt.Sprintf("%s: %s: %v", file, what, err)}
	}
	return ok, nil
}

// splitList reads a variable's list: names separated by commas or spaces.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// fileURL is an absolute file: URL for a path relative to dir.
func fileURL(dir, p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return (&url.URL{Scheme: "file", Path: filepath.Clean(p)}).String()
}

// absPath is p relative to dir.
func absPath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// hashOpts are pip's --hash options for algorithm:hex pairs.
func hashOpts(hashes []string) string {
	var b strings.Builder
	for _, h := range hashes {
		b.WriteString(" --hash=" + h)
	}
	return b.String()
}

// pep508 is a PEP 508 requirement read loosely, enough to compare a lock's
// recorded requirements with pyproject.toml's.
type pep508 struct {
	Name, Extras, Specifier, URL, Marker string
}

var reqRE = regexp.MustCompile(`^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*(?:@\s*([^;]*?)\s*)?([^;@]*?)\s*(?:;\s*(.*))?$`)

func parsePEP508(s string) (pep508, error) {
	m := reqRE.FindStringSubmatch(s)
	if m == nil {
		return pep508{}, fmt.Errorf("cannot read the requirement %q", s)
	}
	return pep508{Name: NormalizeName(m[1]), Extras: normExtras(splitList(m[2])), URL: m[3],
		Specifier: normSpecifier(strings.Trim(m[4], "() ")), Marker: strings.TrimSpace(m[5])}, nil
}

func normExtras(es []string) string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, NormalizeName(e))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// normSpecifier is a specifier set in one spelling (marker.CanonicalSpecifier).
func normSpecifier(s string) string { return marker.CanonicalSpecifier(s) }

// vcsRequirement is a VCS source pinned to a commit as a pip requirement
// line: "NAME @ git+URL@COMMIT#subdirectory=DIR". A URL without a host
// (file:///...) is refused in that form by the packaging pip vendors before
// 22, so it takes pip's older "git+URL@COMMIT#egg=NAME" form.
func vcsRequirement(name, vcs, u, commit, subdir string) string {
	full := vcs + "+" + u + "@" + commit
	if pu, err := url.Parse(u); err == nil && pu.Host == "" {
		full += "#egg=" + name
		if subdir != "" {
			full += "&subdirectory=" + subdir
		}
		return full
	}
	if subdir != "" {
		full += "#subdirectory=" + subdir
	}
	return name + " @ " + full
}
