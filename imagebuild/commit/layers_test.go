package commit

import (
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestNewLayers(t *testing.T) {
	out := Layer{DiffID: digest.FromString("out"), Entries: 2}
	empty := Layer{DiffID: digest.FromString("empty")}
	home := Layer{DiffID: digest.FromString("home")}
	deps := &Layer{DiffID: digest.FromString("deps")}
	for _, tc := range []struct {
		name string
		in   Input
		want []digest.Digest
	}{
		{"fresh", Input{Outside: out, Home: home}, []digest.Digest{out.DiffID, home.DiffID}},
		{"fresh, nothing outside", Input{Outside: empty, Home: home}, []digest.Digest{empty.DiffID, home.DiffID}},
		{"reused", Input{Outside: empty, Home: home, Deps: deps}, []digest.Digest{deps.DiffID, home.DiffID}},
		{"reused, more outside", Input{Outside: out, Home: home, Deps: deps}, []digest.Digest{deps.DiffID, out.DiffID, home.DiffID}},
	} {
		got := newLayers(tc.in)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %d layers, want %d", tc.name, len(got), len(tc.want))
		}
		for i := range got {
			if got[i].DiffID != tc.want[i] {
				t.Errorf("%s: layer %d is %s, want %s", tc.name, i, got[i].DiffID, tc.want[i])
			}
		}
	}
	fresh, reused := newLayers(Input{Outside: out, Home: home}), newLayers(Input{Outside: empty, Home: home, Deps: deps})
	if fresh[0].history.CreatedBy != reused[0].history.CreatedBy || fresh[0].history.Comment != reused[0].history.Comment {
		t.Errorf("a reused layer's history differs from a fresh one's: %+v vs %+v", fresh[0].history, reused[0].history)
	}
}
