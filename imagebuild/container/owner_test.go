package container

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"go.podman.io/storage"
)

func TestParseStartTime(t *testing.T) {
	tests := []struct {
		stat string
		want uint64
		ok   bool
	}{
		{"1234 (sleep) S 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 5840896 200 18446744073709551615", 98765, true},
		{"1234 (a b) c) (d) S 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 42 5840896 200 1", 42, true},
		{"1234 (x) S 1 2", 0, false},
		{"garbage", 0, false},
		{"1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 notanumber 0", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStartTime(tt.stat)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStartTime(%q) = %d, %v; want %d ok=%v", tt.stat, got, err, tt.want, tt.ok)
		}
	}
}

// deadOwner is the owner record of a process that has exited.
func deadOwner(t *testing.T) Owner {
	t.Helper()
	cmd := exec.Command("sleep", "0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	start, err := startTime(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	return Owner{PID: pid, Start: start, Boot: self.Boot, PIDNS: self.PIDNS, TempDir: "/tmp"}
}

func TestOwnerAlive(t *testing.T) {
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if !self.Alive() {
		t.Error("this process is not alive")
	}
	reused := self
	reused.Start++
	otherBoot := self
	otherBoot.Boot = "00000000-0000-0000-0000-000000000000"
	for name, o := range map[string]Owner{"exited": deadOwner(t), "pid reused": reused, "earlier boot": otherBoot} {
		if o.Alive() {
			t.Errorf("%s: %+v is alive", name, o)
		}
	}
	// A dead PID of another PID namespace cannot be told from a live one.
	otherNS := deadOwner(t)
	otherNS.PIDNS = "pid:[1]"
	if !otherNS.Alive() {
		t.Errorf("%+v of another PID namespace counted as gone", otherNS)
	}
}

func TestParseOwner(t *testing.T) {
	self, _ := Self()
	b, _ := json.Marshal(metadata{Owner: &self})
	if o, ok := ParseOwner(string(b)); !ok || o != self {
		t.Errorf("ParseOwner(%s) = %+v, %v", b, o, ok)
	}
	// podman's metadata, none, and junk: not pys2i's.
	for _, m := range []string{`{"image-name":"x","name":"pys2i-build-1"}`, "", "{", `{"pys2i-owner":{"pid":0}}`} {
		if _, ok := ParseOwner(m); ok {
			t.Errorf("ParseOwner(%q) found an owner", m)
		}
	}
}

func TestFindAndRemoveStale(t *testing.T) {
	s, image := newStore(t)
	live, err := Create(s, image, "pys2i-build-live")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Remove()
	dead := deadOwner(t)
	meta, _ := json.Marshal(metadata{Owner: &dead})
	stale, err := s.CreateContainer("", []string{"pys2i-build-stale"}, image, "", string(meta), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Mount(stale.ID, ""); err != nil {
		t.Fatal(err)
	}
	// A container named like ours but not ours (podman's metadata), and one
	// of a dead owner under another name: both left alone.
	if _, err := s.CreateContainer("", []string{"pys2i-build-podman"}, image, "", `{"image-name":"x"}`, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateContainer("", []string{"other"}, image, "", string(meta), nil); err != nil {
		t.Fatal(err)
	}
	found, err := FindStale(s, "pys2i-build-")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].ID != stale.ID || found[0].Owner != dead {
		t.Fatalf("FindStale = %+v, want only %s", found, stale.ID)
	}
	if err := RemoveStale(s, found[0]); err != nil {
		t.Fatal(err)
	}
	if err := RemoveStale(s, found[0]); err != nil {
		t.Errorf("second RemoveStale: %v", err)
	}
	if s.Exists(stale.ID) {
		t.Error("the stale container is still there")
	}
	if _, err := os.Stat(live.Root); err != nil {
		t.Errorf("the live container's root: %v", err)
	}
	if ctrs, err := s.Containers(); err != nil || len(ctrs) != 3 {
		t.Errorf("%d containers left (%v), want 3", len(ctrs), err)
	}
}

// What the sweep takes from a listing of the store: containers and bare
// layers named ours, carrying an owner that is gone; never a layer that
// something else uses.
func TestFindStaleDecision(t *testing.T) {
	meta := func(pid int) string {
		b, _ := json.Marshal(metadata{Owner: &Owner{PID: pid, Boot: "b"}})
		return string(b)
	}
	const livePID, deadPID = 10, 20
	alive := func(o Owner) bool { return o.PID == livePID }
	dead, live := meta(deadPID), meta(livePID)
	name := []string{"pys2i-build-1"}
	layer := func(id string, names []string, meta string) storage.Layer {
		return storage.Layer{ID: id, Parent: "base", Names: names, Flags: map[string]any{OwnerFlag: meta}}
	}
	tests := []struct {
		name string
		all  storage.MultiListResult
		want []string // IDs, "layer:" before a bare layer's
	}{
		{"dead owner's container", storage.MultiListResult{Containers: []storage.Container{{ID: "c", Names: name, Metadata: dead, LayerID: "l"}}}, []string{"c"}},
		{"live owner's container", storage.MultiListResult{Containers: []storage.Container{{ID: "c", Names: name, Metadata: live}}}, nil},
		{"podman's container named ours", storage.MultiListResult{Containers: []storage.Container{{ID: "c", Names: name, Metadata: `{"image-name":"x"}`}}}, nil},
		{"dead owner's container named otherwise", storage.MultiListResult{Containers: []storage.Container{{ID: "c", Names: []string{"other"}, Metadata: dead}}}, nil},
		{"dead owner's bare layer", storage.MultiListResult{Layers: []storage.Layer{layer("l", name, dead)}}, []string{"layer:l"}},
		{"live owner's bare layer", storage.MultiListResult{Layers: []storage.Layer{layer("l", name, live)}}, nil},
		{"layer named ours without an owner", storage.MultiListResult{Layers: []storage.Layer{layer("l", name, "")}}, nil},
		{"dead owner's layer named otherwise", storage.MultiListResult{Layers: []storage.Layer{layer("l", []string{"other"}, dead)}}, nil},
		{"layer unnamed", storage.MultiListResult{Layers: []storage.Layer{layer("l", nil, dead)}}, nil},
		{"owner in the layer's metadata, not its flag", storage.MultiListResult{Layers: []storage.Layer{{ID: "l", Names: name, Metadata: dead}}}, nil},
		{"owner flag not a string", storage.MultiListResult{Layers: []storage.Layer{{ID: "l", Names: name, Flags: map[string]any{OwnerFlag: 20}}}}, nil},
		{"a container's layer", storage.MultiListResult{
			Containers: []storage.Container{{ID: "c", Names: []string{"podman"}, LayerID: "l"}},
			Layers:     []storage.Layer{layer("l", name, dead)}}, nil},
		{"an image's top layer", storage.MultiListResult{
			Images: []storage.Image{{ID: "i", TopLayer: "l"}},
			Layers: []storage.Layer{layer("l", name, dead)}}, nil},
		{"an image's mapped top layer", storage.MultiListResult{
			Images: []storage.Image{{ID: "i", TopLayer: "t", MappedTopLayers: []string{"l"}}},
			Layers: []storage.Layer{layer("l", name, dead)}}, nil},
		{"a layer with a child", storage.MultiListResult{
			Layers: []storage.Layer{layer("l", name, dead), {ID: "child", Parent: "l"}}}, nil},
		{"a stale container and a stale layer", storage.MultiListResult{
			Containers: []storage.Container{{ID: "c", Names: name, Metadata: dead, LayerID: "cl"}},
			Layers:     []storage.Layer{layer("cl", nil, ""), layer("l", []string{"pys2i-build-2"}, dead)}}, []string{"c", "layer:l"}},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range findStale(tt.all, "pys2i-build-", alive) {
			if s.Owner.PID != deadPID {
				t.Errorf("%s: %s has owner %+v", tt.name, s.ID, s.Owner)
			}
			if s.Bare {
				got = append(got, "layer:"+s.ID)
			} else {
				got = append(got, s.ID)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: findStale = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// OnLayer records its owner in the layer; a bare layer a dead process left
// (mounted) is found and removed, unmounted; a live one, an unnamed one and
// one without an owner stay.
func TestFindAndRemoveStaleLayer(t *testing.T) {
	s, image := newStore(t)
	img, err := s.Image(image)
	if err != nil {
		t.Fatal(err)
	}
	live, err := OnLayer(s, img.TopLayer, "pys2i-build-live")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Remove()
	l, err := s.Layer(live.ID)
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := l.Flags[OwnerFlag].(string)
	if o, ok := ParseOwner(meta); !ok || o.PID != os.Getpid() || !o.Alive() {
		t.Fatalf("OnLayer's layer flags %v: owner %+v, %v; want this process", l.Flags, o, ok)
	}

	dead := deadOwner(t)
	deadMeta, _ := json.Marshal(metadata{Owner: &dead})
	stale, err := onLayer(s, img.TopLayer, "pys2i-build-stale", string(deadMeta))
	if err != nil {
		t.Fatal(err)
	}
	// Mounted twice: the sweep unmounts whatever the count. (vfs mounts
	// nothing; the integration test sees overlay's mount go.)
	if _, err := s.Mount(stale.ID, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Mounted(stale.ID); err != nil || n != 2 {
		t.Fatalf("the stale layer is mounted %d times (%v), want 2", n, err)
	}
	foreign, err := s.CreateLayer("", img.TopLayer, []string{"pys2i-build-foreign"}, "", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateLayer("", img.TopLayer, []string{"other"}, "", true, nil); err != nil {
		t.Fatal(err)
	}

	found, err := FindStale(s, "pys2i-build-")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].ID != stale.ID || !found[0].Bare || found[0].Owner != dead {
		t.Fatalf("FindStale = %+v, want only the bare layer %s", found, stale.ID)
	}
	if err := RemoveStale(s, found[0]); err != nil {
		t.Fatal(err)
	}
	if err := RemoveStale(s, found[0]); err != nil {
		t.Errorf("second RemoveStale: %v", err)
	}
	if _, err := s.Layer(stale.ID); err == nil {
		t.Error("the stale layer is still there")
	}
	if _, err := os.Stat(filepath.Join(live.Root, "etc/base")); err != nil {
		t.Errorf("the live layer's root: %v", err)
	}
	if n, err := s.Mounted(live.ID); err != nil || n != 1 {
		t.Errorf("the live layer is mounted %d times (%v), want 1", n, err)
	}
	if _, err := s.Layer(foreign.ID); err != nil {
		t.Errorf("the layer without an owner: %v", err)
	}
	if layers, err := s.Layers(); err != nil || len(layers) != 4 {
		t.Errorf("%d layers left (%v), want 4", len(layers), err)
	}
}
