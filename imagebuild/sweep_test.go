package imagebuild

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
		// A build's other containers share its temp dir.
		{"/tmp", "pys2i-build-123-runtime", "/tmp/pys2i-build-123", true},
		{"/tmp", "pys2i-build-123-artifacts", "/tmp/pys2i-build-123", true},
		{"/tmp", "pys2i-build-123-runtime-deps", "/tmp/pys2i-build-123", true},
		{"/tmp", "pys2i-build--runtime", "/tmp/pys2i-build--runtime", true},
		{"/tmp", "pys2i-build-123-artifacts-runtime", "/tmp/pys2i-build-123-artifacts", true}, // one suffix only
	}
	for _, tt := range tests {
		got, ok := staleTempDir(tt.tmp, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("staleTempDir(%q, %q) = %q, %v; want %q, %v", tt.tmp, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

// The save-artifacts container is named as its build, so that the sweep
// finds it and its temp dir.
func TestArtifactsContainerName(t *testing.T) {
	n := artifactsContainerName("/tmp/x/pys2i-build-42")
	if n != "pys2i-build-42-artifacts" {
		t.Errorf("artifactsContainerName = %q", n)
	}
	if d, ok := staleTempDir("/tmp/x", n); !ok || d != "/tmp/x/pys2i-build-42" {
		t.Errorf("staleTempDir(%q) = %q, %v; want the build's temp dir", n, d, ok)
	}
}
