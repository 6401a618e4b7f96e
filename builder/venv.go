// Package builder creates the virtual environment under $APP_ROOT and installs
// the application's dependencies (pip, pipenv, lock files). It answers its
// questions (is Django installed? which Python?) from the venv's files and
// metadata, never by starting an interpreter, except for the lock installs,
// which ask the venv's python once for its marker environment and wheel
// tags (pyenv.go).
package builder

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Venv is a virtual environment on disk.
type Venv struct {
	Root string // $VIRTUAL_ENV, /opt/app-root in the images
}

// SitePackages lists the venv's site-packages directories (lib/pythonX.Y/site-packages).
func (v Venv) SitePackages() []string {
	dirs, _ := filepath.Glob(filepath.Join(v.Root, "lib", "python3*", "site-packages"))
	return dirs
}

// Config reads pyvenv.cfg as key = value pairs.
func (v Venv) Config() (map[string]string, error) {
	f, err := os.Open(filepath.Join(v.Root, "pyvenv.cfg"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, val, ok := strings.Cut(sc.Text(), "=")
		if ok {
			cfg[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	return cfg, sc.Err()
}

// PythonVersion is the venv interpreter's "major.minor", from pyvenv.cfg
// (version or version_info), else from the lib/pythonX.Y directory name.
func (v Venv) PythonVersion() (string, error) {
	if cfg, err := v.Config(); err == nil {
		for _, k := range []string{"version", "version_info"} {
			if mm := majorMinor(cfg[k]); mm != "" {
				return mm, nil
			}
		}
	}
	for _, sp := range v.SitePackages() {
		if mm := majorMinor(strings.TrimPrefix(filepath.Base(filepath.Dir(sp)), "python")); mm != "" {
			return mm, nil
		}
	}
	return "", fmt.Errorf("no Python found in the virtual environment %s (no pyvenv.cfg version, no lib/python3.*)", v.Root)
}

var versionRE = regexp.MustCompile(`^(\d+)\.(\d+)`)

func majorMinor(s string) string {
	m := versionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return ""
	}
	return m[1] + "." + m[2]
}

// BaseInterpreter is the interpreter the venv was made from (pyvenv.cfg
// home), used to make tool venvs as upstream's `python3.X -m venv` does.
func (v Venv) BaseInterpreter() string {
	cfg, _ := v.Config()
	mm, _ := v.PythonVersion()
	if home := cfg["home"]; home != "" {
		for _, name := range []string{"python" + mm, "python3"} {
			if p := filepath.Join(home, name); isExec(p) {
				return p
			}
		}
	}
	if mm != "" {
		return "python" + mm
	}
	return "python3"
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// NormalizeName is PEP 503 normalization: lower case, runs of -_. as "-".
func NormalizeName(name string) string {
	return strings.ToLower(normRE.ReplaceAllString(name, "-"))
}

var normRE = regexp.MustCompile(`[-_.]+`)

// HasDistribution reports whether a distribution (by project name) is
// installed in one of the site-packages directories: a NAME-VERSION.dist-info
// or .egg-info entry, matched after normalization.
func HasDistribution(sitePackages []string, project string) bool {
	want := NormalizeName(project)
	for _, sp := range sitePackages {
		ents, err := os.ReadDir(sp)
		if err != nil {
			continue
		}
		for _, e := range ents {
			n := e.Name()
			var base string
			switch {
			case strings.HasSuffix(n, ".dist-info"):
				base = strings.TrimSuffix(n, ".dist-info")
			case strings.HasSuffix(n, ".egg-info"):
				base = strings.TrimSuffix(n, ".egg-info")
			default:
				continue
			}
			name, _, _ := strings.Cut(base, "-")
			if NormalizeName(name) == want {
				return true
			}
		}
	}
	return false
}

// HasModule reports whether a top-level importable package or module is in
// one of the site-packages directories (what `import NAME` would find).
func HasModule(sitePackages []string, module string) bool {
	for _, sp := range sitePackages {
		for _, p := range []string{filepath.Join(sp, module, "__init__.py"), filepath.Join(sp, module+".py")} {
			if _, err := os.Stat(p); err == nil {
				return true
			}
		}
	}
	return false
}
