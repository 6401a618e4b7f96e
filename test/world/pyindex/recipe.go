// Package pyindex builds a local, version-coherent, byte-reproducible PEP 503
// ("simple") Python package index from what a Debian mirror serves: Debian
// binary packages repacked into wheels, the ready-made wheels Debian ships
// under /usr/share/python-wheels, and upstream source tarballs from the
// mirror's pool (served as sdists, optionally also built into wheels).
package pyindex

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
)

// Recipe says what goes into the index.
type Recipe struct {
	Wheels   []DebWheel `json:"wheels"`   // Debian binary packages repacked into wheels
	Prebuilt []string   `json:"prebuilt"` // debs shipping ready .whl files under usr/share/python-wheels
	Sdists   []Sdist    `json:"sdists"`   // upstream source tarballs from the mirror's pool
}

// DebWheel is one Debian binary package repacked into a wheel.
type DebWheel struct {
	Deb     string `json:"deb"`     // Debian binary package, e.g. "python3-flask"
	Project string `json:"project"` // upstream project name, e.g. "Flask"
	// Modules are the top-level packages/modules taken from
	// usr/lib/python3/dist-packages. Empty: the metadata's top_level.txt, or,
	// without one, everything the deb ships there besides its metadata.
	Modules []string `json:"modules,omitempty"`
	// Requires are the Requires-Dist lines of the wheel (Debian strips
	// install_requires). nil: keep the Requires-Dist and Provides-Extra of
	// the shipped metadata. An empty non-nil list means no requirements.
	Requires []string `json:"requires,omitempty"`
	// Bundle are debs whose shared libraries get vendored into
	// <project>.libs when a .so of the wheel needs them (numpy: libblas3,
	// liblapack3, libgfortran5, libquadmath0). Their files also resolve
	// symlinks of the package that point out of it (Django's and Werkzeug's
	// jquery.js point into libjs-jquery).
	Bundle []string `json:"bundle,omitempty"`
	// Embed copies the wheels shipped by these Prebuilt-style debs (under
	// usr/share/python-wheels), normalized, into a folder of the wheel.
	Embed []Embed `json:"embed,omitempty"`
	// Patch applies exact text substitutions to files of the wheel.
	Patch []Patch `json:"patch,omitempty"`
}

// Embed puts the normalized wheels of Deb into the wheel folder To.
type Embed struct {
	Deb string `json:"deb"` // e.g. "python3-pip-whl"
	To  string `json:"to"`  // e.g. "virtualenv/seed/wheels/embed"
}

// Patch replaces Old, which must occur exactly once in File (a path in the
// wheel), by New.
type Patch struct {
	File string `json:"file"`
	Old  string `json:"old"`
	New  string `json:"new"`
}

// Sdist is an upstream source tarball from the mirror's pool.
type Sdist struct {
	Project string `json:"project"` // e.g. "mod_wsgi"; the file is served as <project>-<version>.tar.gz (PEP 625 spelling)
	Version string `json:"version"`
	Pool    string `json:"pool"`   // path under the mirror, e.g. "pool/main/g/gunicorn/gunicorn_23.0.0.orig.tar.gz"
	SHA256  string `json:"sha256"` // of the pool file
	// Wheel also builds a pure wheel from it with Debian's /usr/bin/python3
	// (pip wheel --no-build-isolation). false: served as sdist only.
	Wheel bool `json:"wheel"`
}

//go:embed recipe.json
var defaultRecipeJSON []byte

// DefaultRecipe returns the tested recipe for the integration tests' index
// (Debian bookworm, Python 3.11).
func DefaultRecipe() Recipe {
	r, err := ParseRecipe(defaultRecipeJSON)
	if err != nil {
		panic("pyindex: embedded recipe.json: " + err.Error())
	}
	return r
}

// DefaultRecipeJSON returns the JSON text of DefaultRecipe.
func DefaultRecipeJSON() []byte { return append([]byte(nil), defaultRecipeJSON...) }

// ParseRecipe decodes a JSON recipe, rejecting unknown fields.
func ParseRecipe(b []byte) (Recipe, error) {
	var r Recipe
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Recipe{}, err
	}
	if dec.More() {
		return Recipe{}, fmt.Errorf("trailing data after recipe")
	}
	return r, nil
}
