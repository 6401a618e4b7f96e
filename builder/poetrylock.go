package builder

import (
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

type poetryLock struct {
	Package  []poetryPackage `toml:"package"`
	Metadata struct {
		ContentHash    string                  `toml:"content-hash"`
		PythonVersions string                  `toml:"python-versions"`
		Files          map[string][]poetryFile `toml:"files"`
	} `toml:"metadata"`
}

type poetryPackage struct {
	Name     string       `toml:"name"`
	Version  string       `toml:"version"`
	Category string       `toml:"category"` // poetry < 1.5: "main" or "dev"
	Groups   []string     `toml:"groups"`   // lock-version 2.1 (poetry 2): the dependency groups that need it
	Optional bool         `toml:"optional"`
	Files    []poetryFile `toml:"files"`
	Source   struct {
		Type         string `toml:"type"`
		URL          string `toml:"url"`
		Reference    string `toml:"reference"`
		ResolvedRef  string `toml:"resolved_reference"`
		Subdirectory string `toml:"subdirectory"`
	} `toml:"source"`
	Develop bool `toml:"develop"`
}

type poetryFile struct {
	File string `toml:"file"`
	Hash string `toml:"hash"`
}

// poetryMain says whether a poetry.lock package belongs to the main
// dependencies: its category (older locks) or, without one, its groups.
func poetryMain(category string, groups []string) bool {
	if category != "" || len(groups) == 0 {
		return category != "dev"
	}
	for _, g := range groups {
		if g == "main" {
			return true
		}
	}
	return false
}

// ConvertPoetryLock checks poetry.lock's content-hash against pyproject.toml
// and converts the main category (and dev with dev) into requirements.
// Optional packages (extras of the project) are left out, as micropipenv does.
func ConvertPoetryLock(lock, pyproject []byte, dev bool) (*Locked, error) {
	l, err := checkPoetryLock(lock, pyproject)
	if err != nil {
		return nil, err
	}
	out := &Locked{Kind: "poetry.lock", Indexes: poetrySources(pyproject)}
	for _, p := range l.Package {
		if p.Optional || (!dev && !poetryMain(p.Category, p.Groups)) {
			continue
		}
		r, err := poetryRequirement(p, l.Metadata.Files[p.Name])
		if err != nil {
			return nil, err
		}
		out.Reqs = append(out.Reqs, r)
	}
	return out, nil
}

// checkPoetryLock reads a poetry.lock and checks its content-hash against
// pyproject.toml's.
func checkPoetryLock(lock, pyproject []byte) (*poetryLock, error) {
	var l poetryLock
	if _, err := toml.Decode(string(lock), &l); err != nil {
		return nil, &LockError{fmt.Sprintf("poetry.lock is corrupt: %v", err)}
	}
	if l.Metadata.ContentHash == "" {
		return nil, &LockError{"poetry.lock is corrupt: no metadata.content-hash"}
	}
	if pyproject == nil {
		return nil, &LockError{"poetry.lock found but no pyproject.toml beside it"}
	}
	want, err := PoetryContentHash(pyproject)
	if err != nil {
		return nil, err
	}
	if want != l.Metadata.ContentHash {
		return nil, &LockError{fmt.Sprintf("poetry.lock (%s) out of date: its content-hash does not match pyproject.toml (%s); run poetry lock", short(l.Metadata.ContentHash), short(want))}
	}
	return &l, nil
}

// poetrySources are the URLs of pyproject.toml's [[tool.poetry.source]].
func poetrySources(pyproject []byte) []string {
	var pp struct {
		Tool struct {
			Poetry struct {
				Source []struct {
					Name string `toml:"name"`
					URL  string `toml:"url"`
				} `toml:"source"`
			} `toml:"poetry"`
		} `toml:"tool"`
	}
	toml.Decode(string(pyproject), &pp)
	var urls []string
	for _, s := range pp.Tool.Poetry.Source {
		urls = append(urls, s.URL)
	}
	return urls
}

// poetryRequirement is one poetry.lock package as a pip requirement line;
// metaFiles are its files from the older [metadata.files] table, used when
// the package lists none itself.
func poetryRequirement(p poetryPackage, metaFiles []poetryFile) (Requirement, error) {
	r := Requirement{Name: p.Name}
	switch p.Source.Type {
	case "git":
		ref := p.Source.ResolvedRef
		if ref == "" {
			ref = p.Source.Reference
		}
		u := p.Source.URL
		if !strings.HasPrefix(u, "git+") {
			u = "git+" + u
		}
		r.Line = u + "@" + ref + "#egg=" + p.Name
		if p.Source.Subdirectory != "" {
			r.Line += "&subdirectory=" + p.Source.Subdirectory
		}
	case "directory", "file":
		r.Line = p.Source.URL
		if p.Develop {
			r.Line, r.Editable = "-e "+r.Line, true
		}
	case "url":
		r.Line = p.Name + " @ " + p.Source.URL
	default: // PyPI or a legacy (simple) index
		files := p.Files
		if len(files) == 0 {
			files = metaFiles
		}
		r.Line = p.Name + "==" + p.Version
		for _, f := range files {
			if f.Hash != "" {
				r.Line += " --hash=" + f.Hash
				r.Hashed = true
			}
		}
		if !r.Hashed {
			return r, &LockError{fmt.Sprintf("poetry.lock entry %s %s has no file hashes", p.Name, p.Version)}
		}
	}
	return r, nil
}
