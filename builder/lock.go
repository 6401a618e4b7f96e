package builder

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/BurntSushi/toml"
)

// Requirement is one pinned line of a converted lock file.
type Requirement struct {
	Name     string
	Line     string // what pip gets: "name[extras]==1.0; markers --hash=sha256:..." or a VCS/path spec
	Editable bool
	Hashed   bool // the line carries hashes (installable with --require-hashes)
}

// Locked is a lock file turned into pip input.
type Locked struct {
	Kind    string   // "Pipfile.lock" or "poetry.lock"
	Indexes []string // index URLs (first is the main one), env vars expanded
	Trusted []string // hosts of sources with verify_ssl = false
	Reqs    []Requirement
}

// LockError is a lock file that cannot be used (corrupt, stale, wrong Python).
type LockError struct{ Msg string }

func (e *LockError) Error() string { return e.Msg }

// pythonJSON encodes v as Python's json.dumps(v, sort_keys=True,
// separators=sep) does (ASCII only, \uXXXX escapes), which is what pipenv
// and poetry hash.
func pythonJSON(buf *bytes.Buffer, v any, itemSep, keySep string) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case float64:
		if math.Trunc(x) == x && math.Abs(x) < 1e16 {
			buf.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
		} else {
			buf.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case string:
		buf.WriteByte('"')
		for _, r := range x {
			switch {
			case r == '"':
				buf.WriteString(`\"`)
			case r == '\\':
				buf.WriteString(`\\`)
			case r == '\n':
				buf.WriteString(`\n`)
			case r == '\r':
				buf.WriteString(`\r`)
			case r == '\t':
				buf.WriteString(`\t`)
			case r == '\b':
				buf.WriteString(`\b`)
			case r == '\f':
				buf.WriteString(`\f`)
			case r < 0x20 || (r >= 0x7f && r < 0x10000):
				if r < 0x7f {
					fmt.Fprintf(buf, `\u%04x`, r)
				} else {
					fmt.Fprintf(buf, `\u%04x`, r)
				}
			case r >= 0x10000:
				a, b := utf16.EncodeRune(r)
				fmt.Fprintf(buf, `\u%04x\u%04x`, a, b)
			default:
				buf.WriteRune(r)
			}
		}
		buf.WriteByte('"')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteString(itemSep)
			}
			if err := pythonJSON(buf, e, itemSep, keySep); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case []map[string]any:
		arr := make([]any, len(x))
		for i := range x {
			arr[i] = x[i]
		}
		return pythonJSON(buf, arr, itemSep, keySep)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys) // Python sorts by code point; Go by bytes: the same for UTF-8
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteString(itemSep)
			}
			pythonJSON(buf, k, itemSep, keySep)
			buf.WriteString(keySep)
			if err := pythonJSON(buf, x[k], itemSep, keySep); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		return fmt.Errorf("cannot hash a TOML value of type %T", v)
	}
	return nil
}

func sha256JSON(v any, itemSep, keySep string) (string, error) {
	var buf bytes.Buffer
	if err := pythonJSON(&buf, v, itemSep, keySep); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

// PipfileHash is the hash pipenv writes to Pipfile.lock's _meta.hash.sha256
// (and micropipenv --deploy checks): sha256 of the canonical JSON of the
// sources, requires, packages and dev-packages.
func PipfileHash(pipfile []byte) (string, error) {
	var p map[string]any
	if _, err := toml.Decode(string(pipfile), &p); err != nil {
		return "", &LockError{fmt.Sprintf("Pipfile is not valid TOML: %v", err)}
	}
	get := func(k string) any {
		if v, ok := p[k]; ok {
			return v
		}
		return map[string]any{}
	}
	data := map[string]any{
		"_meta":   map[string]any{"sources": p["source"], "requires": get("requires")},
		"default": get("packages"),
		"develop": get("dev-packages"),
	}
	return sha256JSON(data, ",", ":")
}

// PoetryContentHash is poetry's content-hash of pyproject.toml: sha256 of
// json.dumps of tool.poetry's dependencies, dev-dependencies, source and
// extras (null when missing), plus group when present.
func PoetryContentHash(pyproject []byte) (string, error) {
	var p struct {
		Tool struct {
			Poetry map[string]any `toml:"poetry"`
		} `toml:"tool"`
	}
	if _, err := toml.Decode(string(pyproject), &p); err != nil {
		return "", &LockError{fmt.Sprintf("pyproject.toml is not valid TOML: %v", err)}
	}
	if p.Tool.Poetry == nil {
		return "", &LockError{"pyproject.toml has no [tool.poetry] section"}
	}
	rel := map[string]any{}
	for _, k := range []string{"dependencies", "source", "extras", "dev-dependencies"} {
		rel[k] = p.Tool.Poetry[k]
	}
	if g, ok := p.Tool.Poetry["group"]; ok {
		rel["group"] = g
	}
	return sha256JSON(rel, ", ", ": ")
}

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
// section (and develop with dev) into requirements. expand expands ${VAR}
// in source URLs.
func ConvertPipfileLock(lock, pipfile []byte, python string, dev bool, expand func(string) string) (*Locked, error) {
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

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func pipfileRequirement(name string, e pipfileEntry) (Requirement, error) {
	r := Requirement{Name: name, Editable: e.Editable}
	extras := ""
	if len(e.Extras) > 0 {
		extras = "[" + strings.Join(e.Extras, ",") + "]"
	}
	var spec string
	switch {
	case e.Git != "" || e.Hg != "" || e.Svn != "" || e.Bzr != "":
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
		spec = u
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
		// writes version "*" and no hashes. micropipenv passes such an entry
		// on without a version, and pip skips it where the markers do not
		// hold; where they hold, it installs the newest, as micropipenv.
		spec = name + extras
	default:
		return r, &LockError{fmt.Sprintf("Pipfile.lock entry %s has no version, VCS or path", name)}
	}
	if e.Editable {
		spec = "-e " + spec
	}
	if e.Markers != "" && !e.Editable {
		spec += "; " + e.Markers
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

type poetryLock struct {
	Package []struct {
		Name     string   `toml:"name"`
		Version  string   `toml:"version"`
		Category string   `toml:"category"` // poetry < 1.5: "main" or "dev"
		Groups   []string `toml:"groups"`   // lock-version 2.1 (poetry 2): the dependency groups that need it
		Optional bool     `toml:"optional"`
		Files    []struct {
			File string `toml:"file"`
			Hash string `toml:"hash"`
		} `toml:"files"`
		Source struct {
			Type         string `toml:"type"`
			URL          string `toml:"url"`
			Reference    string `toml:"reference"`
			ResolvedRef  string `toml:"resolved_reference"`
			Subdirectory string `toml:"subdirectory"`
		} `toml:"source"`
		Develop bool `toml:"develop"`
	} `toml:"package"`
	Metadata struct {
		ContentHash    string `toml:"content-hash"`
		PythonVersions string `toml:"python-versions"`
		Files          map[string][]struct {
			File string `toml:"file"`
			Hash string `toml:"hash"`
		} `toml:"files"`
	} `toml:"metadata"`
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
	out := &Locked{Kind: "poetry.lock"}
	for _, s := range pp.Tool.Poetry.Source {
		out.Indexes = append(out.Indexes, s.URL)
	}
	for _, p := range l.Package {
		if p.Optional || (!dev && !poetryMain(p.Category, p.Groups)) {
			continue
		}
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
				files = l.Metadata.Files[p.Name]
			}
			r.Line = p.Name + "==" + p.Version
			for _, f := range files {
				if f.Hash != "" {
					r.Line += " --hash=" + f.Hash
					r.Hashed = true
				}
			}
			if !r.Hashed {
				return nil, &LockError{fmt.Sprintf("poetry.lock entry %s %s has no file hashes", p.Name, p.Version)}
			}
		}
		out.Reqs = append(out.Reqs, r)
	}
	return out, nil
}

// PipArgs are the pip install invocations for the lock: hashed requirements
// with --require-hashes --no-deps, then VCS/path ones with --no-deps.
func (l *Locked) PipArgs() (hashed, unhashed []string) {
	var idx []string
	if len(l.Indexes) > 0 {
		idx = append(idx, "--index-url", l.Indexes[0])
		for _, u := range l.Indexes[1:] {
			idx = append(idx, "--extra-index-url", u)
		}
	}
	for _, h := range l.Trusted {
		idx = append(idx, "--trusted-host", h)
	}
	return append([]string{"install", "--require-hashes", "--no-deps"}, idx...),
		append([]string{"install", "--no-deps"}, idx...)
}

// lockInputs are micropipenv's inputs in order of preference.
var lockInputs = []string{"Pipfile.lock", "poetry.lock", "requirements.txt"}

// maxLockDepth is how many parent directories micropipenv searches.
const maxLockDepth = 42

// FindLockInput picks micropipenv's input: the first kind (Pipfile.lock,
// poetry.lock, requirements.txt) found in dir or one of its parents, up to
// 42 levels, as micropipenv's _traverse_up_find_file does.
func FindLockInput(dir string) (string, bool) {
	for _, name := range lockInputs {
		d := dir
		for i := 0; i <= maxLockDepth; i++ {
			p := filepath.Join(d, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, true
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return "", false
}

// InstallLocked is ENABLE_MICROPIPENV without micropipenv: the input is
// picked as micropipenv does (Pipfile.lock, then poetry.lock with
// pyproject.toml, then requirements.txt), checked as with --deploy and
// installed with pip --no-deps (--require-hashes for hashed pins). A
// PIP_INDEX_URL in the environment takes precedence over the lock's sources
// (the image's mirror wins, as for every other pip call).
func InstallLocked(ctx context.Context, x *Exec, dir string, venv Venv) error {
	dev := Getenv(x.Env, "MICROPIPENV_DEV") != ""
	input, found := FindLockInput(dir)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(input), name))
		if err != nil {
			return nil
		}
		return b
	}
	var locked *Locked
	var err error
	switch {
	case !found:
		return &LockError{"ENABLE_MICROPIPENV is set but there is no Pipfile.lock, poetry.lock or requirements.txt"}
	case filepath.Base(input) == "Pipfile.lock":
		python, perr := venv.PythonVersion()
		if perr != nil {
			return perr
		}
		locked, err = ConvertPipfileLock(read("Pipfile.lock"), read("Pipfile"), python, dev,
			func(s string) string { return os.Expand(s, func(k string) string { return Getenv(x.Env, k) }) })
	case filepath.Base(input) == "poetry.lock":
		locked, err = ConvertPoetryLock(read("poetry.lock"), read("pyproject.toml"), dev)
	default:
		return x.Run(ctx, "pip", "install", "-r", input)
	}
	if err != nil {
		return err
	}
	if Getenv(x.Env, "PIP_INDEX_URL") != "" {
		locked.Indexes, locked.Trusted = nil, nil // pip's own configuration governs
	}
	fmt.Fprintf(x.Stdout, "---> Installing %d pinned packages from %s (native micropipenv --deploy)\n", len(locked.Reqs), locked.Kind)
	hashedArgs, plainArgs := locked.PipArgs()
	var hashed, plain []string
	for _, r := range locked.Reqs {
		if r.Hashed {
			hashed = append(hashed, r.Line)
		} else {
			plain = append(plain, r.Line)
		}
	}
	for _, set := range []struct {
		args  []string
		lines []string
	}{{hashedArgs, hashed}, {plainArgs, plain}} {
		if len(set.lines) == 0 {
			continue
		}
		f, err := os.CreateTemp("", "pys2i-locked-*.txt")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		if _, err := f.WriteString(strings.Join(set.lines, "\n") + "\n"); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := x.Run(ctx, append(append([]string{"pip"}, set.args...), "-r", f.Name())...); err != nil {
			return err
		}
	}
	return nil
}
