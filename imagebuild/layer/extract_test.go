package layer

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

type tarEntry struct {
	name, link string
	typ        byte
	mode       int64
	uid, gid   int
	body       string
}

func tarOf(t *testing.T, entries ...tarEntry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := time.Unix(315532800, 0)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid, Linkname: e.link, ModTime: mt, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return &buf
}

func openRoot(t *testing.T) (string, *os.Root) {
	t.Helper()
	dir := t.TempDir()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return dir, r
}

// moveUnder maps "dest/..." to "src/..." and skips everything else, as the
// runtime image's dependency layer goes back into the builder.
func moveUnder(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "dest")
	if !ok || (rest != "" && rest[0] != '/') {
		return "", false
	}
	return "src" + rest, true
}

func TestExtract(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("Extract keeps owners: run as root")
	}
	dir, root := openRoot(t)
	layer := tarOf(t,
		tarEntry{name: "parent/", typ: tar.TypeDir, mode: 0o755},
		tarEntry{name: "dest/", typ: tar.TypeDir, mode: 0o775, uid: 1001},
		tarEntry{name: "dest/bin/", typ: tar.TypeDir, mode: 0o2775, uid: 1001},
		tarEntry{name: "dest/bin/tool", typ: tar.TypeReg, mode: 0o4755, uid: 1001, body: "#!/bin/sh\n"},
		tarEntry{name: "dest/bin/python", typ: tar.TypeSymlink, link: "/usr/bin/python3", uid: 1001},
		tarEntry{name: "dest/bin/tool2", typ: tar.TypeLink, link: "dest/bin/tool"},
		tarEntry{name: "dest/fifo", typ: tar.TypeFifo, mode: 0o644},
	)
	names, err := Extract(layer, root, moveUnder)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"src", "src/bin", "src/bin/tool", "src/bin/python", "src/bin/tool2"}
	if !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	if _, err := os.Lstat(filepath.Join(dir, "parent")); !os.IsNotExist(err) {
		t.Errorf("an tarEntry rename refused was extracted: %v", err)
	}
	for _, c := range []struct {
		name string
		mode os.FileMode
		uid  uint32
	}{
		{"src", os.ModeDir | 0o775, 1001},
		{"src/bin", os.ModeDir | os.ModeSetgid | 0o775, 1001},
		{"src/bin/tool", os.ModeSetuid | 0o755, 1001},
		{"src/bin/python", os.ModeSymlink | 0o777, 1001},
	} {
		fi, err := os.Lstat(filepath.Join(dir, c.name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != c.mode || fi.Sys().(*syscall.Stat_t).Uid != c.uid {
			t.Errorf("%s: mode %v uid %d, want %v %d", c.name, fi.Mode(), fi.Sys().(*syscall.Stat_t).Uid, c.mode, c.uid)
		}
		if c.mode&os.ModeSymlink == 0 && !fi.ModTime().Equal(time.Unix(315532800, 0)) {
			t.Errorf("%s: mtime %v", c.name, fi.ModTime())
		}
	}
	a, _ := os.Stat(filepath.Join(dir, "src/bin/tool"))
	b, _ := os.Stat(filepath.Join(dir, "src/bin/tool2"))
	if !os.SameFile(a, b) {
		t.Error("the hard link is not one")
	}
}

func TestExtractConfined(t *testing.T) {
	outside := t.TempDir()
	for _, c := range []struct {
		name    string
		entries []tarEntry
		errPart string
	}{
		{"dotdot", []tarEntry{{name: "dest/../../x", typ: tar.TypeReg, mode: 0o644, body: "x"}}, ""},
		{"symlink out", []tarEntry{
			{name: "dest/", typ: tar.TypeDir, mode: 0o755},
			{name: "dest/out", typ: tar.TypeSymlink, link: outside},
			{name: "dest/out/x", typ: tar.TypeReg, mode: 0o644, body: "x"},
		}, "extract dest/out/x"},
		{"whiteout", []tarEntry{{name: "dest/.wh.x", typ: tar.TypeReg, mode: 0o644}}, "whiteout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, root := openRoot(t)
			_, err := Extract(tarOf(t, c.entries...), root, func(n string) (string, bool) { return n, true })
			if c.errPart != "" && (err == nil || !strings.Contains(err.Error(), c.errPart)) {
				t.Errorf("error %v, want one with %q", err, c.errPart)
			}
			if m, _ := filepath.Glob(filepath.Join(outside, "*")); len(m) > 0 {
				t.Errorf("written outside the root: %v", m)
			}
		})
	}
}

// ExtractOnto lays a layer back on the tree it was made on, as the build's
// own user: directories already there keep their metadata, files are the
// extracting user's (not the header's owner), and whiteouts delete.
func TestExtractOnto(t *testing.T) {
	dir, root := openRoot(t)
	for _, d := range []string{"app/lib", "app/cache"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"app/lib/old.py", "app/cache/x", "app/cache/y", "outside"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	layer := tarOf(t,
		tarEntry{name: "app/lib/", typ: tar.TypeDir, mode: 0o755, uid: 1001},
		tarEntry{name: "app/lib/new.py", typ: tar.TypeReg, mode: 0o664, uid: 1001, body: "new"},
		tarEntry{name: "app/lib/.wh.old.py", typ: tar.TypeReg},
		tarEntry{name: "app/cache/.wh..wh..opq", typ: tar.TypeReg},
		tarEntry{name: "app/.wh.missing", typ: tar.TypeReg},
		tarEntry{name: ".wh.outside", typ: tar.TypeReg},
	)
	underApp := func(name string) (string, bool) { return name, strings.HasPrefix(name, "app/") }
	if _, err := ExtractOnto(layer, root, underApp); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "app/lib")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("app/lib: %v %v, want its own mode 0700 kept", fi.Mode(), err)
	}
	fi, err := os.Stat(filepath.Join(dir, "app/lib/new.py"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != os.Getuid() || fi.Mode().Perm() != 0o664 {
		t.Errorf("app/lib/new.py: owner %d, mode %v; want this user's (%d), 0664", st.Uid, fi.Mode(), os.Getuid())
	}
	for _, gone := range []string{"app/lib/old.py", "app/cache/x", "app/cache/y"} {
		if _, err := os.Lstat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it deleted", gone, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "app/cache")); err != nil {
		t.Errorf("the opaque directory itself: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "outside")); err != nil {
		t.Errorf("a whiteout that rename refuses deleted: %v", err)
	}
}
