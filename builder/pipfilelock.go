package builder

import (
	"encoding/json"

	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/pys2i/pys2i/builder/marker"
)

type pipfileLock struct {
	Meta struct {
		Hash     struct{ Sha256 string } `json:"hash"`
		Requires map[string]string       `json:"requires"`
		Sources  []struct {
			Name      string `json:"name"`
			URL       string `json:"url"`
			VerifySSL *bool  `json:"verify_ssl"`
		} `json:"sources"`
	} `json:"_meta"`
	Default map[string]pipfileEntry `json:"default"`
	Develop map[string]pipfileEntry `json:"develop"`
}

type pipfileEntry struct {
	Version  string   `json:"version"`
	Hashes   []string `json:"hashes"`
	Markers  string   `json:"markers"`
	Extras   []string `json:"extras"`
	Git      string   `json:"git"`
	Hg       string   `json:"hg"`
	Svn      string   `json:"svn"`
	Bzr      string   `json:"bzr"`
	Ref      string   `json:"ref"`
	Path     string   `json:"path"`
	File     string   `json:"file"`
	Editable bool     `json:"editable"`
	Subdir   string   `json:"subdirectory"`
}

// ConvertPipfileLock checks a Pipfile.lock as micropipenv install --deploy
// does (the Pipfile's hash, the Python major.minor) and converts its default
// section (and develop with dev) into requirements. Markers are evaluated
// here against env (the venv's interpreter), with the evaluator the
// uv.lock and pylock.toml paths use: an entry whose markers do not hold is
// left out, the others reach pip without markers. expand expands ${VAR} in
// source URLs.
func ConvertPipfileLock(lock, pipfile []byte, env marker.Env, dev bool, expand func(string) string) (*Locked, error) {
	l, err := checkPipfileLock(lock, pipfile, env.Vars["python_version"])
	if err != nil {
		return nil, err
	}
	out := &Locked{Kind: "Pipfile.lock"}
	for _, s := range l.Meta.Sources {
		u := expand(s.URL)
		out.Indexes = append(out.Indexes, u)
		if s.VerifySSL != nil && !*s.VerifySSL {
			if pu, err := url.Parse(u); err == nil && pu.Host != "" {
				out.Trusted = append(out.Trusted, pu.Hostname())
			}
		}
	}
	add := func(sec map[string]pipfileEntry) error {
		names := make([]string, 0, len(sec))
		for n := range sec {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ok, err := evalMarker("Pipfile.lock", "entry "+n, sec[n].Markers, env)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			r, err := pipfileRequirement(n, sec[n])
			if err != nil {
				return err
			}
			out.Reqs = append(out.Reqs, r)
		}
		return nil
	}
	if err := add(l.Default); err != nil {
		return nil, err
	}
	if dev {
		if err := add(l.Develop); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkPipfileLock reads a Pipfile.lock and checks it as --deploy does: its
// hash against the Pipfile's, its Python against the image's.
func checkPipfileLock(lock, pipfile []byte, python string) (*pipfileLock, error) {
	var l pipfileLock
	if err := json.Unmarshal(lock, &l); err != nil {
		return nil, &LockError{fmt.Sprintf("Pipfile.lock is corrupt: %v", err)}
	}
	if l.Meta.Hash.Sha256 == "" {
		return nil, &LockError{"Pipfile.lock is corrupt: no _meta.hash.sha256"}
	}
	if pipfile == nil {
		return nil, &LockError{"Pipfile.lock found but no Pipfile beside it to check its hash against"}
	}
	want, err := PipfileHash(pipfile)
	if err != nil {
		return nil, err
	}
	if want != l.Meta.Hash.Sha256 {
		return nil, &LockError{fmt.Sprintf("Pipfile.lock (%s) out of date: its hash does not match the Pipfile (%s); run pipenv lock", short(l.Meta.Hash.Sha256), short(want))}
	}
	if v := l.Meta.Requires["python_version"]; v != "" && python != "" && v != python {
		return nil, &LockError{fmt.Sprintf("Pipfile.lock requires Python %s, but the image runs Python %s", v, python)}
	}
	return &l, nil
}

// pipfileRequirement is one Pipfile.lock entry as a pip requirement line.
func pipfileRequirement(name string, e pipfileEntry) (Requirement, error) {
	r := Requirement{Name: name, Editable: e.Editable}
	extras := ""
	if len(e.Extras) > 0 {
		extras = "[" + strings.Join(e.Extras, ",") + "]"
	}
	var spec string
	switch {
	case e.Git != "" || e.Hg != "" || e.Svn != "" || e.Bzr != "":
		spec = pipfileVCS(name, e)
	case e.Path != "" || e.File != "":
		spec = e.Path
		if spec == "" {
			spec = e.File
		}
		if extras != "" {
			spec += extras
		}
	case e.Version != "" && e.Version != "*":
		if !strings.HasPrefix(e.Version, "=") && !strings.ContainsAny(e.Version[:1], "<>!~") {
			return r, &LockError{fmt.Sprintf("Pipfile.lock entry %s has an unpinned version %q", name, e.Version)}
		}
		spec = name + extras + e.Version
	case (e.Version == "" || e.Version == "*") && e.Markers != "":
		// pipenv does not resolve a package whose markers do not hold
		// where it locks (colorama; sys_platform == 'win32' on Linux): it
		// writes version "*" and no hashes. Where the markers do not hold
		// the entry is left out before this; where they hold, pip installs
		// the newest, as micropipenv.
		spec = name + extras
	default:
		return r, &LockError{fmt.Sprintf("Pipfile.lock entry %s has no version, VCS or path", name)}
	}
	if e.Editable {
		spec = "-e " + spec
	}
	if len(e.Hashes) > 0 && !e.Editable && e.Git == "" && e.Path == "" {
		for _, h := range e.Hashes {
			spec += " --hash=" + h
		}
		r.Hashed = true
	}
	r.Line = spec
	return r, nil
}

// pipfileVCS is a VCS entry as pip's VCS+URL@REF#egg=NAME form.
func pipfileVCS(name string, e pipfileEntry) string {
	vcs, u := "git", e.Git
	switch {
	case e.Hg != "":
		vcs, u = "hg", e.Hg
	case e.Svn != "":
		vcs, u = "svn", e.Svn
	case e.Bzr != "":
		vcs, u = "bzr", e.Bzr
	}
	if !strings.HasPrefix(u, vcs+"+") {
		u = vcs + "+" + u
	}
	if e.Ref != "" {
		u += "@" + e.Ref
	}
	u += "#egg=" + name
	if e.Subdir != "" {
		u += "&subdirectory=" + e.Subdir
	}
	return u
}
