package run

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// pyEnv answers, from files only, what upstream asked a Python process:
// whether a package is importable and which version it has. It looks at the
// site-packages of the `python` found in PATH (the venv when VIRTUAL_ENV's
// bin is first, as in the builder images), plus the system's when the venv
// includes it, plus the extra import roots (cwd, PYTHONPATH).
type pyEnv struct {
	sites []string // host paths (root-prefixed)
}

func newPyEnv(root, pythonDir string, extra []string, home string) pyEnv {
	var e pyEnv
	for _, d := range extra {
		if d != "" {
			e.sites = append(e.sites, filepath.Join(root, d))
		}
	}
	if pythonDir == "" {
		return e
	}
	prefix := filepath.Dir(pythonDir)
	cfg, err := os.ReadFile(filepath.Join(root, prefix, "pyvenv.cfg"))
	if err != nil {
		e.sites = append(e.sites, prefixSites(root, prefix)...)
		if home != "" {
			e.sites = append(e.sites, globAll(filepath.Join(root, home, ".local/lib/python3*/site-packages"))...)
		}
		return e
	}
	e.sites = append(e.sites, prefixSites(root, prefix)...)
	vals := map[string]string{}
	for _, line := range strings.Split(string(cfg), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			vals[strings.TrimSpace(strings.ToLower(k))] = strings.TrimSpace(v)
		}
	}
	if strings.EqualFold(vals["include-system-site-packages"], "true") && vals["home"] != "" {
		e.sites = append(e.sites, prefixSites(root, filepath.Dir(vals["home"]))...)
	}
	return e
}

func prefixSites(root, prefix string) []string {
	var out []string
	for _, pat := range []string{
		"lib/python3*/site-packages", "lib64/python3*/site-packages",
		"lib/python3/dist-packages", "local/lib/python3*/dist-packages",
	} {
		out = append(out, globAll(filepath.Join(root, prefix, pat))...)
	}
	return out
}

func globAll(pat string) []string {
	m, _ := filepath.Glob(pat)
	return m
}

// normName is the PEP 503 normalized form of a distribution name, with "_".
func normName(s string) string {
	return nameSepRe.ReplaceAllString(strings.ToLower(s), "_")
}

var nameSepRe = regexp.MustCompile(`[-_.]+`)

// importable reports whether `import pkg` would find a package or module.
func (e pyEnv) importable(pkg string) bool {
	for _, site := range e.sites {
		if fileExists(filepath.Join(site, pkg, "__init__.py")) || fileExists(filepath.Join(site, pkg+".py")) {
			return true
		}
		if _, ok := e.distInfo(site, pkg); ok {
			return true
		}
	}
	return false
}

// distInfo finds NAME-VERSION.dist-info or .egg-info in site.
func (e pyEnv) distInfo(site, name string) (string, bool) {
	ents, err := os.ReadDir(site)
	if err != nil {
		return "", false
	}
	want := normName(name)
	for _, ent := range ents {
		n := ent.Name()
		base, ok := strings.CutSuffix(n, ".dist-info")
		if !ok {
			base, ok = strings.CutSuffix(n, ".egg-info")
		}
		if !ok {
			continue
		}
		dname, _, _ := strings.Cut(base, "-")
		if normName(dname) == want {
			return filepath.Join(site, n), true
		}
	}
	return "", false
}

// version returns the installed version of a distribution: the
// version_info tuple of gunicorn/__init__.py style modules when present
// (what upstream's `python -c` read), else Version: from the metadata.
func (e pyEnv) version(name string) ([]int, bool) {
	for _, site := range e.sites {
		if b, err := os.ReadFile(filepath.Join(site, name, "__init__.py")); err == nil {
			if m := versionInfoRe.FindSubmatch(b); m != nil {
				return parseVersion(strings.ReplaceAll(string(m[1]), ",", ".")), true
			}
		}
		di, ok := e.distInfo(site, name)
		if !ok {
			continue
		}
		for _, f := range []string{"METADATA", "PKG-INFO"} {
			b, err := os.ReadFile(filepath.Join(di, f))
			if err != nil {
				continue
			}
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				line := sc.Text()
				if line == "" {
					break
				}
				if v, ok := strings.CutPrefix(line, "Version:"); ok {
					return parseVersion(strings.TrimSpace(v)), true
				}
			}
		}
		// The directory name carries the version too.
		base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(di), ".dist-info"), ".egg-info")
		if _, v, ok := strings.Cut(base, "-"); ok {
			return parseVersion(v), true
		}
	}
	return nil, false
}

var versionInfoRe = regexp.MustCompile(`(?m)^version_info\s*=\s*\(\s*([0-9]+\s*(?:,\s*[0-9]+\s*)*),?\s*\)`)

func parseVersion(v string) []int {
	var out []int
	for _, p := range strings.Split(v, ".") {
		p = strings.TrimSpace(p)
		i := 0
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		if i == 0 {
			break
		}
		n, _ := strconv.Atoi(p[:i])
		out = append(out, n)
		if i < len(p) {
			break
		}
	}
	return out
}

// atLeast201 is upstream's `ver[0]>=21 or (ver[0]==20 and ver[1]>=1)`.
func atLeast201(v []int) bool {
	if len(v) == 0 {
		return false
	}
	if v[0] >= 21 {
		return true
	}
	return v[0] == 20 && len(v) > 1 && v[1] >= 1
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
