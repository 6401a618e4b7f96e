package world

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world/pyindex"
)

// A failing step stops the build with an error naming the step and leaves
// nothing that a later build would take for a finished part.
func TestBuildFailureLeavesNoCache(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("world build tests need root (debootstrap)")
	}
	r, err := DefaultRecipe()
	if err != nil {
		t.Fatal(err)
	}
	badPkg := r
	badPkg.Minimal = append(append([]string(nil), r.Minimal...), "pys2i-no-such-package")
	for _, tc := range []struct {
		name, mirror string
		recipe       Recipe
		want         string
	}{
		{"unreachable mirror", "http://127.0.0.1:1/debian", r, "step debootstrap python-minimal"},
		{"unknown package", DefaultMirror(), badPkg, "pys2i-no-such-package"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			root := t.TempDir()
			var log strings.Builder
			b := &Builder{Root: root, Mirror: tc.mirror, Recipe: tc.recipe, Log: &log}
			_, err := b.Build(ctx)
			if err == nil {
				t.Fatal("build succeeded")
			}
			if !strings.Contains(err.Error(), "step debootstrap python-minimal") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name the step and %q", err, tc.want)
			}
			for _, pattern := range []string{"base-*", "index-*", ".tmp-*", "world.json"} {
				if m, _ := filepath.Glob(filepath.Join(root, pattern)); len(m) > 0 {
					t.Errorf("failed build left %v", m)
				}
			}
			if _, err := Load(root); err == nil || !strings.Contains(err.Error(), "make world") {
				t.Errorf("Load after a failed build: %v, want a 'run make world' error", err)
			}
		})
	}
}

func TestRecipeKeys(t *testing.T) {
	r, err := DefaultRecipe()
	if err != nil {
		t.Fatal(err)
	}
	l := r.Primary()
	if r.BaseKey(l) != r.BaseKey(l) || len(r.BaseKey(l)) != 16 {
		t.Fatalf("base key %q not stable", r.BaseKey(l))
	}
	if len(r.Lines) < 2 || r.BaseKey(r.Lines[1]) == r.BaseKey(l) {
		t.Errorf("lines %+v: want two with their own base keys", r.Lines)
	}
	changed := r
	changed.Full = append(append([]string(nil), r.Full...), "vim")
	if changed.BaseKey(l) == r.BaseKey(l) {
		t.Error("changing the full packages kept the base key")
	}
	relocale := r
	relocale.Locales = []string{"de_DE.UTF-8"}
	if relocale.BaseKey(l) == r.BaseKey(l) {
		t.Error("changing the locales kept the base key")
	}
	if changed.IndexKey() != r.IndexKey() {
		t.Error("changing the base recipe changed the index key")
	}
	relocked := r
	relocked.Index.Files = append([]pyindex.LockedFile(nil), r.Index.Files...)
	relocked.Index.Files[0].SHA256 = strings.Repeat("0", 64)
	if relocked.IndexKey() == r.IndexKey() || relocked.ToolsKey() == r.ToolsKey() {
		t.Error("changing the lock kept the index or tools key")
	}
	if relocked.BaseKey(l) != r.BaseKey(l) {
		t.Error("changing the lock changed the base key")
	}
}

func TestRecipeCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []Line
		want  string
	}{
		{"no lines", nil, "no Python lines"},
		{"no suite", []Line{{Python: "3.11"}}, "needs python and suite"},
		{"twice", []Line{{Python: "3.11", Suite: "bookworm"}, {Python: "3.11", Suite: "trixie"}}, "Python 3.11 twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Recipe{Lines: tc.lines}.check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("check: %v, want %q", err, tc.want)
			}
		})
	}
	if err := (Recipe{Lines: []Line{{Python: "3.13", Suite: "trixie"}}}).check(); err != nil {
		t.Errorf("a good recipe: %v", err)
	}
}

func TestPodmanVerb(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rmi", "-f", "x"}, "rmi"},
		{[]string{"image", "rm", "x"}, "rmi"},
		{[]string{"image", "prune", "-f"}, "prune"},
		{[]string{"build", "-q", "--network", "host", "-t", "x", "dir"}, "build"},
		{[]string{"image", "build", "dir"}, "build"},
		{[]string{"image", "inspect", "x"}, ""},
		{[]string{"--log-level=debug", "run", "--rm", "x"}, "run"},
		{nil, ""},
	} {
		if got := podmanVerb(tc.args); got != tc.want {
			t.Errorf("podmanVerb(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// Two lines' logs written in pieces come out as whole lines, each prefixed.
func TestPrefixWriter(t *testing.T) {
	var out strings.Builder
	var mu sync.Mutex
	a := &prefixWriter{mu: &mu, w: &out, prefix: "[3.11] "}
	b := &prefixWriter{mu: &mu, w: &out, prefix: "[3.13] "}
	a.Write([]byte("deboot"))
	b.Write([]byte("one\ntw"))
	a.Write([]byte("strap\nunpack\n"))
	b.Write([]byte("o"))
	a.Flush()
	b.Flush()
	want := "[3.13] one\n[3.11] debootstrap\n[3.11] unpack\n[3.13] two\n"
	if out.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", out.String(), want)
	}
}

// A tool is a name (its script is bin/NAME) or a requirement with the
// script or modules that prove it; the tools key follows the list.
func TestRecipeTools(t *testing.T) {
	r, err := DefaultRecipe()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Tool{
		"poetry":     {Require: "poetry", Bin: "poetry"},
		"spdx-tools": {Require: "spdx-tools", Bin: "pyspdxtools"},
		"cyclonedx-python-lib[json-validation]": {Require: "cyclonedx-python-lib[json-validation]",
			Import: "cyclonedx.validation.json, jsonschema, referencing"},
	}
	for _, tool := range r.Tools {
		if w, ok := want[tool.Require]; ok && tool != w {
			t.Errorf("tool %+v, want %+v", tool, w)
		}
		delete(want, tool.Require)
	}
	if len(want) > 0 {
		t.Errorf("recipe has no %v", want)
	}
	fewer := r
	fewer.Tools = r.Tools[:len(r.Tools)-1]
	if fewer.ToolsKey() == r.ToolsKey() {
		t.Error("dropping a tool kept the tools key")
	}
	if fewer.IndexKey() != r.IndexKey() {
		t.Error("changing the tools changed the index key")
	}
	// The plain form writes back as a string: a recipe of names only keys as it did.
	for _, tc := range []struct{ in, want string }{
		{`"uv"`, `"uv"`},
		{`{"require": "spdx-tools", "bin": "pyspdxtools"}`, `{"require":"spdx-tools","bin":"pyspdxtools"}`},
		{`{"require": "x[y]", "import": "x, y"}`, `{"require":"x[y]","import":"x, y"}`},
	} {
		var tool Tool
		if err := json.Unmarshal([]byte(tc.in), &tool); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if b, _ := json.Marshal(tool); string(b) != tc.want {
			t.Errorf("%s written back as %s, want %s", tc.in, b, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{`""`, "no requirement"},
		{`{"require": "x"}`, "needs one of bin or import"},
		{`{"require": "x", "bin": "x", "import": "x"}`, "needs one of bin or import"},
		{`{"require": "x", "script": "x"}`, "unknown field"},
		{`3`, "want a name or"},
	} {
		var tool Tool
		if err := json.Unmarshal([]byte(tc.in), &tool); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}
