package build

import "testing"

func TestStaleTempDir(t *testing.T) {
	tests := []struct {
		tmp, name, want string
		ok              bool
	}{
		{"/tmp", "pys2i-build-123", "/tmp/pys2i-build-123", true},
		{"/var/tmp/x", "pys2i-build-9", "/var/tmp/x/pys2i-build-9", true},
		{"", "pys2i-build-1", "", false},          // owner recorded no temp dir
		{"tmp", "pys2i-build-1", "", false},       // not absolute
		{"/tmp", "other", "", false},              // not our name
		{"/tmp", "pys2i-build-/../..", "", false}, // not a plain name
	}
	for _, tt := range tests {
		got, ok := staleTempDir(tt.tmp, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("staleTempDir(%q, %q) = %q, %v; want %q, %v", tt.tmp, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
