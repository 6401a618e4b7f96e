// Package world builds and caches the offline test world: Debian-based
// Python base images (minimal and full) for each Python line, a local PEP 503 package index of
// real distributions pinned by sha256, a venv of host-side lock tools, and
// the configuration of a podman store that holds the images. Each part is cached under a key derived from its recipe and is
// built in a temporary directory that is renamed into place only when done.
package world

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pys2i/pys2i/test/world/pyindex"
)

//go:embed recipe.json
var recipeJSON []byte

// Recipe says what the world holds. Changing it changes the cache keys.
type Recipe struct {
	// Lines are the Python lines, each its own pair of base images (and a
	// runtime image) from one Debian suite; the first is the primary line,
	// whose images also carry the unversioned names.
	Lines []Line `json:"lines"`
	// Minimal are the packages debootstrap (variant minbase) adds for the
	// python-minimal stand-in of every line.
	Minimal []string `json:"minimal"`
	// Full are installed on a copy of the minimal root filesystem for the
	// python-full stand-in (compilers and headers).
	Full []string `json:"full"`
	// Locales are generated in every base (upstream's images run with
	// LANG=en_US.UTF-8; Debian's minbase has only C.UTF-8).
	Locales []string `json:"locales"`
	// Env is the images' environment.
	Env []string `json:"env"`
	// Cmd is the images' default command.
	Cmd []string `json:"cmd"`
	// Tools are installed into the tools venv (Debian's python3, from the
	// index's own files): host-side lock tools and SBOM validators for
	// tests.
	Tools []Tool `json:"tools"`
	// Index is the package index's lock (test/world/pyindex/lock.json).
	Index pyindex.Lock `json:"-"`
}

// Tool is one requirement of the tools venv and what proves it installed:
// a console script in bin/ or a module the venv's python imports. In
// recipe.json a plain string ("poetry") is a requirement whose script has
// its name; an object names the requirement and its proof:
// {"require": "spdx-tools", "bin": "pyspdxtools"} or
// {"require": "cyclonedx-python-lib[json-validation]", "import":
// "cyclonedx.validation.json, jsonschema, referencing"} (a library
// without scripts: its module and its extra's, which it imports only when
// asked to validate).
type Tool struct {
	Require string `json:"require"`          // pip requirement
	Bin     string `json:"bin,omitempty"`    // a script in the venv's bin/
	Import  string `json:"import,omitempty"` // modules, comma-separated: python -c "import $Import"
}

// UnmarshalJSON reads a string or an object.
func (t *Tool) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err == nil {
		*t = Tool{Require: name, Bin: name}
		return t.check()
	}
	type plain Tool
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("tool %s: want a name or {\"require\", \"bin\" or \"import\"}: %w", b, err)
	}
	*t = Tool(p)
	return t.check()
}

// MarshalJSON writes a tool whose script has the requirement's name as a
// string, as recipe.json spells it.
func (t Tool) MarshalJSON() ([]byte, error) {
	if t.Import == "" && t.Bin == t.Require {
		return json.Marshal(t.Require)
	}
	type plain Tool
	return json.Marshal(plain(t))
}

func (t Tool) check() error {
	if t.Require == "" {
		return fmt.Errorf("tool %+v: no requirement", t)
	}
	if (t.Bin == "") == (t.Import == "") {
		return fmt.Errorf("tool %s: needs one of bin or import (what proves it installed)", t.Require)
	}
	return nil
}

// Line is one Python line: a Debian suite whose python3 is that version.
type Line struct {
	Python string `json:"python"` // "3.11": the suite's python3
	Suite  string `json:"suite"`  // "bookworm"
	// Runtime are installed on a copy of the minimal root filesystem for
	// the python-runtime image (a runtime image for --runtime-image: what
	// a mod_wsgi app needs to run). Not part of the base key.
	Runtime []string `json:"runtime"`
}

// Tag is the version without its dot, as image names spell it ("311").
func (l Line) Tag() string { return strings.ReplaceAll(l.Python, ".", "") }

// Primary is the line whose images keep the unversioned names.
func (r Recipe) Primary() Line { return r.Lines[0] }

// Versions of the builders' output formats: bump one when the code that
// builds a part changes what it produces, so caches made by old code are
// not trusted.
const (
	baseFormat  = "base-4"
	indexFormat = "index-2"
	toolsFormat = "tools-1"
	goFormat    = "golang-1"
)

// DefaultRecipe is the recipe shipped in recipe.json, with the index lock
// shipped in package pyindex.
func DefaultRecipe() (Recipe, error) {
	var r Recipe
	dec := json.NewDecoder(bytes.NewReader(recipeJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Recipe{}, fmt.Errorf("world recipe: %w", err)
	}
	if err := r.check(); err != nil {
		return Recipe{}, fmt.Errorf("world recipe: %w", err)
	}
	r.Index = pyindex.DefaultLock()
	return r, nil
}

func (r Recipe) check() error {
	if len(r.Lines) == 0 {
		return fmt.Errorf("no Python lines")
	}
	seen := map[string]bool{}
	for _, l := range r.Lines {
		if l.Python == "" || l.Suite == "" {
			return fmt.Errorf("a line needs python and suite: %+v", l)
		}
		if seen[l.Tag()] {
			return fmt.Errorf("Python %s twice", l.Python)
		}
		seen[l.Tag()] = true
	}
	return nil
}

// BaseKey identifies the base images of line l built from this recipe.
func (r Recipe) BaseKey(l Line) string {
	return key(baseFormat, l.Python, l.Suite, r.Minimal, r.Full, r.Locales, r.Env, r.Cmd)
}

// IndexKey identifies the package index built from this recipe.
func (r Recipe) IndexKey() string {
	return key(indexFormat, r.Index)
}

// ToolsKey identifies the tools venv: its tools, installed from this index.
func (r Recipe) ToolsKey() string {
	return key(toolsFormat, r.Tools, r.IndexKey())
}

func key(parts ...any) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range parts {
		if err := enc.Encode(p); err != nil {
			panic(err) // plain data always encodes
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
