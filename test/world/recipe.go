// Package world builds and caches the offline test world: two Debian-based
// Python base images (minimal and full), a local PEP 503 package index of
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

	"github.com/pys2i/pys2i/test/world/pyindex"
)

//go:embed recipe.json
var recipeJSON []byte

// Recipe says what the world holds. Changing it changes the cache keys.
type Recipe struct {
	Suite string `json:"suite"`
	// Minimal are the packages debootstrap (variant minbase) adds for the
	// python-minimal stand-in.
	Minimal []string `json:"minimal"`
	// Full are installed on a copy of the minimal root filesystem for the
	// python-full stand-in (compilers and headers).
	Full []string `json:"full"`
	// Runtime are installed on a copy of the minimal root filesystem for
	// the python-runtime image (a runtime image for --runtime-image: what
	// a mod_wsgi app needs to run). Not part of the base key.
	Runtime []string `json:"runtime"`
	// Env is the images' environment.
	Env []string `json:"env"`
	// Cmd is the images' default command.
	Cmd []string `json:"cmd"`
	// Tools are installed into the tools venv (Debian's python3, from the
	// index's own files): host-side lock tools for tests.
	Tools []string `json:"tools"`
	// Index is the package index's lock (test/world/pyindex/lock.json).
	Index pyindex.Lock `json:"-"`
}

// Versions of the builders' output formats: bump one when the code that
// builds a part changes what it produces, so caches made by old code are
// not trusted.
const (
	baseFormat  = "base-3"
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
	r.Index = pyindex.DefaultLock()
	return r, nil
}

// BaseKey identifies the base images built from this recipe.
func (r Recipe) BaseKey() string {
	return key(baseFormat, r.Suite, r.Minimal, r.Full, r.Env, r.Cmd)
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
