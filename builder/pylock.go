package builder

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// pylock.toml (PEP 751), as written by uv export --format pylock.toml and
// pip lock.

type pylock struct {
	LockVersion      string      `toml:"lock-version"`
	Environments     []string    `toml:"environments"`
	RequiresPython   string      `toml:"requires-python"`
	Extras           []string    `toml:"extras"`
	DependencyGroups []string    `toml:"dependency-groups"`
	DefaultGroups    []string    `toml:"default-groups"`
	Packages         []pyPackage `toml:"packages"`
}

type pyPackage struct {
	Name           string       `toml:"name"`
	Version        string       `toml:"version"`
	Marker         string       `toml:"marker"`
	RequiresPython string       `toml:"requires-python"`
	Index          string       `toml:"index"`
	VCS            *pyVCS       `toml:"vcs"`
	Directory      *pyDirectory `toml:"directory"`
	Archive        *pyFile      `toml:"archive"`
	Sdist          *pyFile      `toml:"sdist"`
	Wheels         []pyFile     `toml:"wheels"`
}

type pyVCS struct {
	Type         string `toml:"type"`
	URL          string `toml:"url"`
	Path         string `toml:"path"`
	CommitID     string `toml:"commit-id"`
	Subdirectory string `toml:"subdirectory"`
}

type pyDirectory struct {
	Path         string `toml:"path"`
	Editable     bool   `toml:"editable"`
	Subdirectory string `toml:"subdirectory"`
}

type pyFile struct {
	Name         string            `toml:"name"`
	URL          string            `toml:"url"`
	Path         string            `toml:"path"`
	Hashes       map[string]string `toml:"hashes"`
	Subdirectory string            `toml:"subdirectory"`
}

// PylockResult is a converted pylock.toml: the pip input, and whether the
// lock installs the project's own directory (then assemble does not).
type PylockResult struct {
	Locked  *Locked
	Project bool
}

// ConvertPylock checks a PEP 751 lock (file is its name, pylock.toml or
// pylock.NAME.toml) for env and choice and turns the packages whose
// markers hold into pip requirements. With no groups chosen, the lock's
// default-groups apply, dev aside. Nothing is installed: every error comes
// before pip runs.
func ConvertPylock(file string, lock []byte, dir string, env PythonEnv, choice LockChoice) (*PylockResult, error) {
	var l pylock
	if _, err := toml.Decode(string(lock), &l); err != nil {
		return nil, &LockError{fmt.Sprintf("%s is corrupt: %v", file, err)}
	}
	if major, _, _ := strings.Cut(l.LockVersion, "."); major != "1" {
		return nil, &LockError{fmt.Sprintf("%s has lock-version %q; this pys2i reads lock-version 1.x (PEP 751)", file, l.LockVersion)}
	}
	if err := checkRequiresPython(file, "the lock", l.RequiresPython, env); err != nil {
		return nil, err
	}
	if len(l.Environments) > 0 {
		ok := false
		for _, e := range l.Environments {
			m, err := evalMarker(file, "environments", e, env.MarkerEnv(nil, nil))
			if err != nil {
				return nil, err
			}
			ok = ok || m
		}
		if !ok {
			return nil, &LockError{fmt.Sprintf("%s does not support this environment (python %s, %s %s): none of its environments holds",
				file, env.Vars["python_full_version"], env.Vars["sys_platform"], env.Vars["platform_machine"])}
		}
	}
	for _, e := range choice.Extras {
		if !containsNormalized(l.Extras, e) {
			return nil, &LockError{fmt.Sprintf("%s: PYS2I_LOCK_EXTRAS names %q, which the lock does not provide (extras: %s)", file, e, strings.Join(l.Extras, ", "))}
		}
	}
	groups := choice.Groups
	for _, g := range groups {
		if !containsNormalized(l.DependencyGroups, g) {
			return nil, &LockError{fmt.Sprintf("%s: PYS2I_LOCK_GROUPS names %q, which is not among the lock's dependency groups (%s)", file, g, strings.Join(l.DependencyGroups, ", "))}
		}
	}
	if groups == nil {
		for _, g := range l.DefaultGroups {
			if NormalizeName(g) != "dev" {
				groups = append(groups, g)
			}
		}
	}
	menv := env.MarkerEnv(choice.Extras, groups)
	out := &PylockResult{Locked: &Locked{Kind: file}}
	seen, seenIndex := map[string]bool{}, map[string]bool{}
	for _, p := range l.Packages {
		what := fmt.Sprintf("%s %s", p.Name, p.Version)
		ok, err := evalMarker(file, what, p.Marker, menv)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if err := checkRequiresPython(file, what, p.RequiresPython, env); err != nil {
			return nil, err
		}
		n := NormalizeName(p.Name)
		if seen[n] {
			return nil, &LockError{fmt.Sprintf("%s: more than one %s applies to this environment", file, p.Name)}
		}
		seen[n] = true
		r, index, project, err := pylockRequirement(p, dir, env)
		if err != nil {
			return nil, &LockError{fmt.Sprintf("%s: %s: %v", file, what, err)}
		}
		out.Project = out.Project || project
		if index != "" && !seenIndex[index] {
			seenIndex[index] = true
			out.Locked.Indexes = append(out.Locked.Indexes, index)
		}
		out.Locked.Reqs = append(out.Locked.Reqs, r)
	}
	sort.SliceStable(out.Locked.Reqs, func(a, b int) bool {
		return NormalizeName(out.Locked.Reqs[a].Name) < NormalizeName(out.Locked.Reqs[b].Name)
	})
	return out, nil
}

func containsNormalized(list []string, s string) bool {
	for _, v := range list {
		if NormalizeName(v) == NormalizeName(s) {
			return true
		}
	}
	return false
}

// pylockRequirement is one package as a pip requirement; index is the
// registry to install it from; project says it is the lock's own directory.
func pylockRequirement(p pyPackage, dir string, env PythonEnv) (r Requirement, index string, project bool, err error) {
	r.Name = p.Name
	switch {
	case p.VCS != nil:
		v := p.VCS
		if v.CommitID == "" {
			return r, "", false, fmt.Errorf("the %s source has no commit-id", v.Type)
		}
		u := v.URL
		if u == "" {
			u = fileURL(dir, v.Path)
		}
		r.Line = vcsRequirement(p.Name, v.Type, u, v.CommitID, v.Subdirectory)
		return r, "", false, nil
	case p.Directory != nil:
		d := absPath(dir, p.Directory.Path)
		if p.Directory.Subdirectory != "" {
			d = filepath.Join(d, p.Directory.Subdirectory)
		}
		project = filepath.Clean(d) == filepath.Clean(dir)
		if p.Directory.Editable {
			r.Line, r.Editable = "-e "+d, true
		} else {
			r.Line = p.Name + " @ " + fileURL(dir, d)
		}
		return r, "", project, nil
	case p.Archive != nil:
		h, err := pyHashes(*p.Archive)
		if err != nil {
			return r, "", false, err
		}
		u := p.Archive.URL
		if u == "" {
			u = fileURL(dir, p.Archive.Path)
		}
		r.Line, r.Hashed = p.Name+" @ "+u+hashOpts(h), true
		if p.Archive.Subdirectory != "" {
			return r, "", false, fmt.Errorf("an archive with a subdirectory cannot be pinned by hash with pip")
		}
		return r, "", false, nil
	}
	// wheels and sdist
	var hashes []string
	var first string // the first compatible file's URL, for a package without a version
	for _, w := range p.Wheels {
		name := w.Name
		if name == "" {
			name = fileName(w.URL + w.Path)
		}
		if !wheelCompatible(name, env.Tags) {
			continue
		}
		h, err := pyHashes(w)
		if err != nil {
			return r, "", false, fmt.Errorf("the wheel %s: %v", name, err)
		}
		hashes = append(hashes, h...)
		if first == "" {
			first = pyFileURL(dir, w)
		}
	}
	if p.Sdist != nil {
		h, err := pyHashes(*p.Sdist)
		if err != nil {
			return r, "", false, fmt.Errorf("its sdist: %v", err)
		}
		hashes = append(hashes, h...)
		if first == "" {
			first = pyFileURL(dir, *p.Sdist)
		}
	}
	if len(hashes) == 0 {
		return r, "", false, fmt.Errorf("no hash for this platform: no wheel for this interpreter (python %s, %s %s) and no sdist in the lock",
			env.Vars["python_full_version"], env.Vars["sys_platform"], env.Vars["platform_machine"])
	}
	r.Hashed = true
	if p.Version != "" {
		// From the lock's index, else the build's (pip's configuration,
		// PIP_INDEX_URL): the hashes pin the files whichever serves them.
		r.Line = p.Name + "==" + p.Version + hashOpts(hashes)
		return r, p.Index, false, nil
	}
	r.Line = p.Name + " @ " + first + hashOpts(hashes)
	return r, "", false, nil
}

func pyFileURL(dir string, f pyFile) string {
	if f.URL != "" {
		return f.URL
	}
	return fileURL(dir, f.Path)
}

// pyHashes are a file's hashes as pip's algorithm:hex, sorted.
func pyHashes(f pyFile) ([]string, error) {
	var out []string
	for alg, hex := range f.Hashes {
		switch alg {
		case "sha256", "sha384", "sha512":
			out = append(out, alg+":"+hex)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no sha256, sha384 or sha512 hash")
	}
	sort.Strings(out)
	return out, nil
}
