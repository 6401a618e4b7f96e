package container

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
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
	if err := RemoveStale(s, stale.ID); err != nil {
		t.Fatal(err)
	}
	if err := RemoveStale(s, stale.ID); err != nil {
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
