package imagebuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPipCacheDir(t *testing.T) {
	a := pipCacheDir("/var/lib/containers/storage", "localhost/app:latest")
	b := pipCacheDir("/var/lib/containers/storage", "localhost/other:latest")
	if !strings.HasPrefix(a, "/var/lib/containers/pys2i-cache/pip/") || a == b {
		t.Errorf("cache dirs %s and %s", a, b)
	}
	if a != pipCacheDir("/var/lib/containers/storage", "localhost/app:latest") {
		t.Error("not stable")
	}
}

func TestPipCacheMount(t *testing.T) {
	uid, gid := os.Getuid(), os.Getgid()
	for _, tc := range []struct {
		name        string
		env         []string
		incremental bool
		mounted     bool
	}{
		{"default", nil, false, true},
		{"PYS2I_NO_CACHE", []string{"PYS2I_NO_CACHE=1"}, false, false},
		{"incremental (the cache comes from save-artifacts)", nil, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, host := t.TempDir(), filepath.Join(t.TempDir(), "cache")
			if err := os.MkdirAll(filepath.Join(root, "tmp"), 0o1777); err != nil {
				t.Fatal(err)
			}
			m, release, err := pipCacheMount(root, host, "/tmp/pys2i", tc.env, uid, gid, tc.incremental)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			if (m != nil) != tc.mounted {
				t.Fatalf("mounts %v, want mounted %v", m, tc.mounted)
			}
			if !tc.mounted {
				return
			}
			if m[0].Source != host || m[0].Target != "/tmp/pys2i/pip-cache" {
				t.Errorf("mount %+v", m[0])
			}
			for _, p := range []string{host, filepath.Join(root, "tmp/pys2i/pip-cache")} {
				if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
					t.Errorf("%s not made: %v", p, err)
				}
			}
			if fi, _ := os.Stat(host); fi.Mode().Perm() != 0o700 {
				t.Errorf("host cache mode %v, want private", fi.Mode().Perm())
			}
		})
	}
}

// A symlink planted in the root cannot make the mount point land outside.
func TestPipCacheMountConfined(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "tmp")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pipCacheMount(root, filepath.Join(t.TempDir(), "c"), "/tmp/pys2i", nil, os.Getuid(), os.Getgid(), false); err != nil {
		t.Logf("refused: %v", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) > 0 {
		t.Errorf("made %v outside the root", ents)
	}
}
