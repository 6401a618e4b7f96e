package output

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		transport, within string
		want              Target
		ok                bool
	}{
		{"oci", "/x/layout:app", Target{Kind: Layout, Path: "/x/layout"}, true},
		{"oci", "/x/layout:", Target{Kind: Layout, Path: "/x/layout"}, true},
		{"dir", "/x/d", Target{Kind: Dir, Path: "/x/d"}, true},
		{"oci-archive", "/x/a.tar:app", Target{Kind: Archive, Path: "/x/a.tar"}, true},
		{"docker-archive", "/x/a.tar", Target{Kind: Archive, Path: "/x/a.tar", NoOverwrite: true}, true},
		{"docker-archive", "/x/a.tar:localhost/app:1", Target{Kind: Archive, Path: "/x/a.tar", NoOverwrite: true}, true},
		{"docker", "//127.0.0.1:5000/app", Target{}, false},
		{"containers-storage", "[overlay@/g]app", Target{}, false},
	} {
		got, ok := Of(c.transport, c.within)
		if got != c.want || ok != c.ok {
			t.Errorf("Of(%q, %q) = %v, %v; want %v, %v", c.transport, c.within, got, ok, c.want, c.ok)
		}
	}
}

func TestRemovals(t *testing.T) {
	e1 := entry{ino: 1, size: 10, mtime: time.Unix(1, 0)}
	e1b := entry{ino: 9, size: 10, mtime: time.Unix(2, 0)} // the same name, replaced
	for _, c := range []struct {
		name          string
		kind          Kind
		before, after state
		want          []string
	}{
		{"layout: new blobs and temp files go, old ones stay, even rewritten", Layout,
			state{"index.json": e1, "oci-layout": e1, "blobs": e1, "blobs/sha256": e1, "blobs/sha256/a": e1},
			state{"index.json": e1b, "oci-layout": e1b, "blobs": e1b, "blobs/sha256": e1b, "blobs/sha256/a": e1b,
				"blobs/sha256/b": e1, "oci-put-blob123": e1},
			[]string{"blobs/sha256/b", "oci-put-blob123"}},
		{"layout: a new blobs directory goes whole", Layout,
			state{"README": e1},
			state{"README": e1, "blobs": e1, "blobs/sha256": e1, "blobs/sha256/a": e1, "index.json": e1},
			[]string{"blobs", "index.json"}},
		{"archive: an untouched file stays", Archive, state{"a.tar": e1}, state{"a.tar": e1}, nil},
		{"archive: a rewritten file goes", Archive, state{"a.tar": e1}, state{"a.tar": e1b}, []string{"a.tar"}},
		{"archive: a new file goes", Archive, state{}, state{"a.tar": e1}, []string{"a.tar"}},
		{"dir: new and replaced files go", Dir,
			state{"version": e1, "keep": e1},
			state{"version": e1b, "keep": e1, "manifest.json": e1},
			[]string{"manifest.json", "version"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := removals(c.kind, c.before, c.after); !slices.Equal(got, c.want) {
				t.Errorf("removals = %q, want %q", got, c.want)
			}
		})
	}
}

// tree is the files under dir with their contents, directories as "/".
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "/"
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestGuardRollback writes into targets as the transports do, then rolls
// back and compares the directory with what it was.
func TestGuardRollback(t *testing.T) {
	layout := map[string]string{"oci-layout": `{"imageLayoutVersion":"1.0.0"}`, "index.json": `{"manifests":[{"digest":"sha256:a"}]}`,
		"blobs/sha256/a": "old manifest"}
	for _, c := range []struct {
		name   string
		kind   Kind
		target string // relative to the test's directory
		before map[string]string
		write  map[string]string // what the failed write left (over before)
	}{
		{"layout the build created, parents included", Layout, "new/deeper/layout", nil,
			map[string]string{"new/deeper/layout/blobs/sha256/b": "half a layer"}},
		{"existing layout: new blobs go, index.json is put back", Layout, "layout", prefixed("layout/", layout),
			map[string]string{"layout/blobs/sha256/b": "half a layer", "layout/index.json": `{"manifests":[{"digest":"sha256:b"`,
				"layout/oci-put-blob42": "temp"}},
		{"existing layout, blob written again with the same bytes stays", Layout, "layout", prefixed("layout/", layout),
			map[string]string{"layout/blobs/sha256/a": "old manifest", "layout/blobs/sha256/c": "x"}},
		{"new archive", Archive, "out.tar", map[string]string{"other": "kept"},
			map[string]string{"out.tar": "partial"}},
		{"dir: image the build created", Dir, "d", nil, map[string]string{"d/version": "1.1", "d/abc": "partial"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, c.before)
			want := tree(t, root)
			g, err := Begin(Target{Kind: c.kind, Path: filepath.Join(root, c.target)})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond) // a rewrite gets another mtime
			writeFiles(t, root, c.write)
			if err := g.Rollback(); err != nil {
				t.Fatal(err)
			}
			got := tree(t, root)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q after rollback, want %q", k, got[k], v)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s left after rollback", k)
				}
			}
		})
	}
}

func prefixed(p string, files map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out[p+k] = v
	}
	return out
}

func TestCheck(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"file": "x"})
	for _, c := range []struct {
		name string
		t    Target
		want string // "" for no error
	}{
		{"a new layout under an existing directory", Target{Kind: Layout, Path: filepath.Join(root, "a/b")}, ""},
		{"an archive in an existing directory", Target{Kind: Archive, Path: filepath.Join(root, "x.tar")}, ""},
		{"an archive in a missing directory", Target{Kind: Archive, Path: filepath.Join(root, "none/x.tar")}, "no such file or directory"},
		{"a layout under a file", Target{Kind: Layout, Path: filepath.Join(root, "file/l")}, "not a directory"},
		{"an archive over an existing file", Target{Kind: Archive, Path: filepath.Join(root, "file")}, ""},
		{"a docker-archive over an existing file", Target{Kind: Archive, Path: filepath.Join(root, "file"), NoOverwrite: true}, "does not add to an existing archive"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.t.Check()
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("Check() = %v, want %q", err, c.want)
			}
			if err != nil && !strings.Contains(err.Error(), c.t.Path) {
				t.Errorf("error %q does not name the output", err)
			}
		})
	}
	if ents, _ := os.ReadDir(root); len(ents) != 1 {
		t.Errorf("Check left files: %v", ents)
	}
}
