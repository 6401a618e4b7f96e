package imagebuild

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/pys2i/pys2i/assemble/artifacts"
	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/runtimeimage"
	"github.com/pys2i/pys2i/internal/contract"
)

func TestDecideReuse(t *testing.T) {
	b1, b2, deps, home, other := digest.FromString("b1"), digest.FromString("b2"), digest.FromString("deps"), digest.FromString("home"), digest.FromString("other")
	builder := []digest.Digest{b1, b2}
	fp := artifacts.Fingerprint{"schema": "s", "python": "p1", "file:requirements.txt": "r1", "env:PIP_INDEX_URL": "i"}
	label := func(f artifacts.Fingerprint) string { b, _ := json.Marshal(f); return string(b) }
	img := func(ids []digest.Digest, labels map[string]string) *v1.Image {
		i := &v1.Image{}
		i.RootFS.DiffIDs = ids
		i.Config.Labels = labels
		return i
	}
	good := map[string]string{contract.LabelDepsLayer: deps.String(), contract.LabelDepsFingerprint: label(fp), contract.LabelDepsUser: "1001:0"}
	cur := artifacts.Fingerprint{"schema": "s", "file:requirements.txt": "r1", "env:PIP_INDEX_URL": "i"} // the host has no "python"
	for _, tc := range []struct {
		name    string
		prev    *v1.Image
		current artifacts.Fingerprint
		reuse   bool
		why     string
	}{
		{"reused", img([]digest.Digest{b1, b2, deps, home}, good), cur, true, "unchanged"},
		{"reused under an extra layer", img([]digest.Digest{b1, b2, deps, other, home}, good), cur, true, "unchanged"},
		{"no previous image", nil, cur, false, "no previous image"},
		{"another builder", img([]digest.Digest{b1, other, deps, home}, good), cur, false, "another builder"},
		{"fewer layers", img([]digest.Digest{b1, b2, deps}, good), cur, false, "another builder"},
		{"not labelled", img([]digest.Digest{b1, b2, deps, home}, nil), cur, false, contract.LabelDepsLayer},
		{"label names another layer", img([]digest.Digest{b1, b2, other, home}, good), cur, false, contract.LabelDepsLayer},
		{"no fingerprint", img([]digest.Digest{b1, b2, deps, home}, map[string]string{contract.LabelDepsLayer: deps.String(), contract.LabelDepsUser: "1001:0"}), cur, false, contract.LabelDepsFingerprint},
		{"corrupt fingerprint", img([]digest.Digest{b1, b2, deps, home}, map[string]string{contract.LabelDepsLayer: deps.String(), contract.LabelDepsFingerprint: "{", contract.LabelDepsUser: "1001:0"}), cur, false, contract.LabelDepsFingerprint},
		{"another assemble user", img([]digest.Digest{b1, b2, deps, home}, map[string]string{contract.LabelDepsLayer: deps.String(), contract.LabelDepsFingerprint: label(fp), contract.LabelDepsUser: "1002:0"}), cur, false, "installed as"},
		{"no user recorded", img([]digest.Digest{b1, b2, deps, home}, map[string]string{contract.LabelDepsLayer: deps.String(), contract.LabelDepsFingerprint: label(fp)}), cur, false, "installed as"},
		{"requirements changed", img([]digest.Digest{b1, b2, deps, home}, good),
			artifacts.Fingerprint{"schema": "s", "file:requirements.txt": "r2", "env:PIP_INDEX_URL": "i"}, false, "changed: file:requirements.txt"},
		{"variable added", img([]digest.Digest{b1, b2, deps, home}, good),
			artifacts.Fingerprint{"schema": "s", "file:requirements.txt": "r1", "env:PIP_INDEX_URL": "i", "env:UPGRADE_PIP_TO_LATEST": "u"}, false, "env:UPGRADE_PIP_TO_LATEST"},
		{"pipenv", img([]digest.Digest{b1, b2, deps, home}, good),
			artifacts.Fingerprint{"schema": "s", "file:requirements.txt": "r1", "env:PIP_INDEX_URL": "i", "env:ENABLE_PIPENV": "e"}, false, "pipenv"},
		{"inputs unreadable", img([]digest.Digest{b1, b2, deps, home}, good), nil, false, "could not be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decideReuse(lineage{base: builder}, tc.prev, tc.current, "1001:0")
			if d.Reuse != tc.reuse || !strings.Contains(d.Reason, tc.why) {
				t.Errorf("= %+v; want reuse %v, reason with %q", d, tc.reuse, tc.why)
			}
			if d.Reuse && d.Layer != deps {
				t.Errorf("layer %s, want %s", d.Layer, deps)
			}
		})
	}
}

// TestDecideReuseRuntimeImage: a --runtime-image build's dependency layer
// sits on the runtime image's layers, and the builder and the copies it was
// made with are labels.
func TestDecideReuseRuntimeImage(t *testing.T) {
	r1, deps, home, other := digest.FromString("r1"), digest.FromString("deps"), digest.FromString("home"), digest.FromString("other")
	fp := artifacts.Fingerprint{"schema": "s", "python": "p1", "file:requirements.txt": "r1"}
	cur := artifacts.Fingerprint{"schema": "s", "file:requirements.txt": "r1"}
	label, _ := json.Marshal(fp)
	lin := lineage{base: []digest.Digest{r1}, builder: "sha256:b", artifacts: `[{"Source":"/opt/app-root","Dest":"/opt/app-root"}]`}
	labels := func(extra map[string]string) map[string]string {
		l := map[string]string{contract.LabelDepsLayer: deps.String(), contract.LabelDepsFingerprint: string(label), contract.LabelDepsUser: "1001:0"}
		for k, v := range extra {
			if v == "" {
				delete(l, k)
				continue
			}
			l[k] = v
		}
		return l
	}
	img := func(ids []digest.Digest, labels map[string]string) *v1.Image {
		i := &v1.Image{}
		i.RootFS.DiffIDs, i.Config.Labels = ids, labels
		return i
	}
	same := map[string]string{contract.LabelDepsBuilder: lin.builder, contract.LabelDepsArtifacts: lin.artifacts}
	for _, tc := range []struct {
		name  string
		lin   lineage
		prev  *v1.Image
		reuse bool
		why   string
	}{
		{"reused", lin, img([]digest.Digest{r1, deps, home}, labels(same)), true, "unchanged"},
		{"another runtime image", lin, img([]digest.Digest{other, deps, home}, labels(same)), false, "another runtime image"},
		{"another builder", lin, img([]digest.Digest{r1, deps, home}, labels(map[string]string{contract.LabelDepsBuilder: "sha256:c", contract.LabelDepsArtifacts: lin.artifacts})), false, "installed on another builder"},
		{"other artifacts", lin, img([]digest.Digest{r1, deps, home}, labels(map[string]string{contract.LabelDepsBuilder: lin.builder, contract.LabelDepsArtifacts: "[]"})), false, "other runtime artifacts"},
		{"a plain build on the runtime image", lin, img([]digest.Digest{r1, deps, home}, labels(nil)), false, "not built with --runtime-image"},
		{"a plain build after a runtime-image one", lineage{base: []digest.Digest{r1}}, img([]digest.Digest{r1, deps, home}, labels(same)), false, "was built with --runtime-image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decideReuse(tc.lin, tc.prev, cur, "1001:0")
			if d.Reuse != tc.reuse || !strings.Contains(d.Reason, tc.why) {
				t.Errorf("= %+v; want reuse %v, reason with %q", d, tc.reuse, tc.why)
			}
		})
	}
}

func TestPreviousImageName(t *testing.T) {
	for _, tc := range []struct {
		o    options.Options
		want string
	}{
		{options.Options{Tag: "localhost/app:latest"}, "localhost/app:latest"},
		{options.Options{Tag: "app"}, "app"},
		{options.Options{Tag: "containers-storage:localhost/app"}, "containers-storage:localhost/app"},
		{options.Options{Tag: "oci:/tmp/x:app"}, ""},
		{options.Options{Tag: "docker://127.0.0.1:5000/app"}, ""},
		{options.Options{Tag: "dir:/tmp/x"}, ""},
		{options.Options{Tag: "oci:/tmp/x:app", Incremental: true, IncrementalFrom: "localhost/prev"}, "localhost/prev"},
		{options.Options{Tag: "docker://127.0.0.1:5000/app", Incremental: true}, "docker://127.0.0.1:5000/app"},
	} {
		if got := previousImageName(tc.o); got != tc.want {
			t.Errorf("previousImageName(%+v) = %q, want %q", tc.o, got, tc.want)
		}
	}
}

func TestDepsLabels(t *testing.T) {
	out := commit.Layer{DiffID: digest.FromString("out"), Entries: 3}
	empty := commit.Layer{DiffID: digest.FromString("empty")}
	r := &depsReuse{layer: commit.Layer{DiffID: digest.FromString("deps")}}
	for _, tc := range []struct {
		name     string
		recorded string
		reuse    *depsReuse
		outside  commit.Layer
		layer    string
	}{
		{"fresh build", `{"a":"1"}`, nil, out, out.DiffID.String()},
		{"reused, nothing else changed", `{"a":"1"}`, r, empty, r.layer.DiffID.String()},
		{"reused, assemble changed more", `{"a":"1"}`, r, out, ""},
		{"no fingerprint (not pys2i's assemble)", "", nil, out, ""},
	} {
		got := depsLabels(tc.recorded, tc.reuse, tc.outside, "1001:0", lineage{})
		if got[contract.LabelDepsLayer] != tc.layer || (tc.layer != "" && (got[contract.LabelDepsFingerprint] != tc.recorded || got[contract.LabelDepsUser] != "1001:0")) {
			t.Errorf("%s: %v, want layer %q", tc.name, got, tc.layer)
		}
		if _, ok := got[contract.LabelDepsBuilder]; ok {
			t.Errorf("%s: a plain build's labels name a builder: %v", tc.name, got)
		}
	}
}

func TestDepsLabelsRuntimeImage(t *testing.T) {
	out := commit.Layer{DiffID: digest.FromString("out"), Entries: 3}
	lin := lineage{builder: "sha256:b", artifacts: "[]"}
	got := depsLabels(`{"a":"1"}`, nil, out, "1001:0", lin)
	if got[contract.LabelDepsBuilder] != lin.builder || got[contract.LabelDepsArtifacts] != lin.artifacts || got[contract.LabelDepsLayer] != out.DiffID.String() {
		t.Errorf("labels %v lack the lineage %+v", got, lin)
	}
}

func TestToSource(t *testing.T) {
	parts := []runtimeimage.Part{{Source: "/opt/app-root", Dest: "/opt/app-root"}, {Source: "/usr/local/lib/x", Dest: "/app/x"}}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{
		{"opt/app-root", "opt/app-root", true},
		{"opt/app-root/lib/python3.11/site-packages/flask/app.py", "opt/app-root/lib/python3.11/site-packages/flask/app.py", true},
		{"app/x/y", "usr/local/lib/x/y", true},
		{"app", "", false}, // a parent the layer creates
		{"opt/app-rootx", "", false},
	} {
		got, ok := toSource(parts, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("toSource(%q) = %q %v, want %q %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAncestors(t *testing.T) {
	got := ancestors("/opt/app-root/src", "/tmp/src", "/tmp/pys2i/fingerprint.json")
	want := []string{"opt", "opt/app-root", "tmp", "tmp/pys2i"}
	if len(got) != len(want) {
		t.Errorf("ancestors = %v, want %v", got, want)
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("ancestors lacks %s: %v", w, got)
		}
	}
}
