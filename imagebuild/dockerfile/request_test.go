package dockerfile

import (
	"testing"

	"github.com/pys2i/pys2i/imagebuild/options"
)

func TestRequestFrom(t *testing.T) {
	o := options.Options{Source: "src", Builder: "b", Tag: "app", AsDockerfile: "out/", Env: []string{"A=1"}, IncrementalFrom: "prev"}
	r := RequestFrom(o)
	if r.Path != "out/" || r.Source.Source != "src" || r.Builder != "b" || r.EnvFlags[0] != "A=1" || r.IncrementalFrom != "" {
		t.Errorf("request %+v", r)
	}
	o.Incremental = true
	if r := RequestFrom(o); r.IncrementalFrom != "prev" {
		t.Errorf("incremental from %q, want prev", r.IncrementalFrom)
	}
	o.IncrementalFrom = ""
	if r := RequestFrom(o); r.IncrementalFrom != "app" {
		t.Errorf("incremental from %q, want the tag", r.IncrementalFrom)
	}
}
