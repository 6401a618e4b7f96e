package imagebuild

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/sandbox"
)

func tarOf(t *testing.T, hdrs ...tar.Header) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "data:" + h.Name
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return &buf
}

func TestExtractArtifacts(t *testing.T) {
	uid, gid := os.Getuid(), os.Getgid()
	for _, tc := range []struct {
		name  string
		hdrs  []tar.Header
		err   string
		files []string // present afterwards, relative to the target
	}{
		{"tree", []tar.Header{
			{Name: "a/", Typeflag: tar.TypeDir, Mode: 0o755},
			{Name: "a/f", Typeflag: tar.TypeReg, Mode: 0o644},
			{Name: "b/c/g", Typeflag: tar.TypeReg, Mode: 0o600},
			{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "a/f"},
			{Name: "h", Typeflag: tar.TypeLink, Linkname: "a/f"},
			{Name: "dev", Typeflag: tar.TypeChar},
		}, "", []string{"a/f", "b/c/g", "l", "h"}},
		{"dot-dot", []tar.Header{{Name: "../escape", Typeflag: tar.TypeReg, Mode: 0o644}}, "outside its directory", nil},
		{"absolute", []tar.Header{{Name: "/etc/escape", Typeflag: tar.TypeReg, Mode: 0o644}}, "absolute name", nil},
		{"through a symlink", []tar.Header{
			{Name: "out", Typeflag: tar.TypeSymlink, Linkname: "../.."},
			{Name: "out/escape", Typeflag: tar.TypeReg, Mode: 0o644},
		}, "escape", nil},
		{"hard link out", []tar.Header{{Name: "h", Typeflag: tar.TypeLink, Linkname: "../outside"}}, "outside its directory", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			if err := os.WriteFile(filepath.Join(base, "outside"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(base, "root", "tmp", "artifacts")
			_, err := extractArtifacts(tarOf(t, tc.hdrs...), dst, uid, gid)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.files {
				if _, err := os.Lstat(filepath.Join(dst, f)); err != nil {
					t.Errorf("missing %s: %v", f, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dst, "dev")); err == nil {
				t.Error("a device was extracted")
			}
			for _, p := range []string{filepath.Join(base, "escape"), filepath.Join(base, "root", "escape"), "/etc/escape"} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("extracted outside: %s", p)
				}
			}
		})
	}
}

func TestScriptNames(t *testing.T) {
	if got := scriptNames(false); len(got) != 2 {
		t.Errorf("plain build locates %v", got)
	}
	if got := scriptNames(true); len(got) != 3 || got[2] != "save-artifacts" {
		t.Errorf("incremental build locates %v", got)
	}
}

func TestDropInput(t *testing.T) {
	mounts := []sandbox.Mount{{Source: "/host/cache", Target: "/tmp/pys2i/pip-cache"}}
	for _, tc := range []struct {
		rel         string
		mounts      []sandbox.Mount
		incremental bool
		want        bool
	}{
		{"tmp/pys2i/pip-cache", mounts, false, true},
		{"tmp/pys2i/pip-cache/wheels/x.whl", mounts, false, true},
		{"tmp/pys2i/fingerprint.json", mounts, false, false},
		{"tmp/pys2i/pip-cache", nil, false, false},
		{"tmp/artifacts/count.txt", nil, true, true},
		{"tmp/artifacts", nil, true, true},
		{"tmp/artifacts/count.txt", nil, false, false},
		{"tmp/artifactsx", nil, true, false},
	} {
		if got := dropInput(tc.rel, tc.mounts, tc.incremental, "/tmp"); got != tc.want {
			t.Errorf("dropInput(%q, incremental %v) = %v, want %v", tc.rel, tc.incremental, got, tc.want)
		}
	}
}

func TestNotIncrementalMessage(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&images.NoImageError{Name: "app"}, "pys2i: no previous image app: this build is not incremental"},
		{&images.NoImageError{Name: "reg/app", Where: []string{"manifest unknown"}},
			"pys2i: no previous image reg/app: this build is not incremental (manifest unknown)"},
		{errors.New("pull failed"), "pys2i: the previous image app could not be had: this build is not incremental: pull failed"},
	} {
		name := "app"
		if ni, ok := tc.err.(*images.NoImageError); ok {
			name = ni.Name
		}
		if got := (&notIncremental{name: name, err: tc.err}).Error(); got != tc.want {
			t.Errorf("got %q\nwant %q", got, tc.want)
		}
	}
}
