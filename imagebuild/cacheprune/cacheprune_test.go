package cacheprune

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestSelect(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	entries := []Entry{
		{Name: "new", LastUsed: ago(time.Hour), Size: 100},
		{Name: "old", LastUsed: ago(40 * day), Size: 10},
		{Name: "older-in-use", LastUsed: ago(50 * day), Size: 1000, InUse: true},
		{Name: "mid", LastUsed: ago(5 * day), Size: 300},
		{Name: "week", LastUsed: ago(7 * day), Size: 200},
	}
	for _, tc := range []struct {
		name string
		l    Limits
		want []string
	}{
		{"no limits", Limits{}, nil},
		{"age", Limits{MaxAge: 30 * day}, []string{"old"}},
		{"age: everything old but the one in use", Limits{MaxAge: time.Minute}, []string{"old", "week", "mid", "new"}},
		{"size: oldest first until it fits, the one in use counted", Limits{MaxSize: 1400}, []string{"old", "week"}},
		{"size already fits", Limits{MaxSize: 2000}, nil},
		{"size cannot fit: all but the one in use", Limits{MaxSize: 500}, []string{"old", "week", "mid", "new"}},
		{"age then size", Limits{MaxAge: 30 * day, MaxSize: 1300}, []string{"old", "week", "mid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Select(entries, now, tc.l); !slices.Equal(got, tc.want) {
				t.Errorf("Select = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPrune removes an old cache and keeps an old one a build holds (Use)
// and a recent one; after release, the held one goes too.
func TestPrune(t *testing.T) {
	root := t.TempDir()
	old := time.Now().Add(-40 * 24 * time.Hour)
	for _, name := range []string{"old", "held", "recent"} {
		if err := os.MkdirAll(filepath.Join(root, name, "wheels"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name, "wheels", "x.whl"), make([]byte, 8192), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	release, err := Use(filepath.Join(root, "held"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"old", "held"} {
		if err := os.Chtimes(filepath.Join(root, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	l := Limits{MaxAge: 30 * 24 * time.Hour}
	removed, err := Prune(root, l, time.Now())
	if err != nil || !slices.Equal(removed, []string{"old"}) {
		t.Fatalf("Prune = %q, %v; want [old]", removed, err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if removed, err = Prune(root, l, time.Now()); err != nil || !slices.Equal(removed, []string{"held"}) {
		t.Fatalf("after release, Prune = %q, %v; want [held]", removed, err)
	}
	ents, _ := os.ReadDir(root)
	if len(ents) != 1 || ents[0].Name() != "recent" {
		t.Errorf("left: %v", ents)
	}
}

// TestUse makes a missing cache and sets its time of last use.
func TestUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pip", "abc")
	release, err := Use(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || time.Since(fi.ModTime()) > time.Minute {
		t.Fatalf("Use left %v, %v", fi, err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
}

// TestPruneSize removes the least recently used caches until the rest fit.
func TestPruneSize(t *testing.T) {
	root := t.TempDir()
	var total, oldest int64
	for i, name := range []string{"a", "b", "c"} {
		d := filepath.Join(root, name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "x.whl"), make([]byte, 64<<10), 0o600); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(time.Duration(i-3) * time.Hour) // a is the least recently used
		if err := os.Chtimes(d, when, when); err != nil {
			t.Fatal(err)
		}
		n, err := diskUsage(d)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			oldest = n
		}
		total += n
	}
	removed, err := Prune(root, Limits{MaxSize: total - oldest}, time.Now())
	if err != nil || !slices.Equal(removed, []string{"a"}) {
		t.Fatalf("Prune = %q, %v; want [a]", removed, err)
	}
}
