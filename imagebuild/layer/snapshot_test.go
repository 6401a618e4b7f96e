package layer

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestWriteChanges(t *testing.T) {
	past := time.Unix(1_600_000_000, 0)
	tests := []struct {
		name   string
		change func(t *testing.T, root string)
		want   []string
	}{
		{name: "nothing changed", change: func(*testing.T, string) {}},
		{
			name: "a new file in a new directory, and one in an old one",
			change: func(t *testing.T, root string) {
				write(t, root, map[string]string{"lib/new/m.py": "m", "src/b": "b"})
			},
			want: []string{"app/lib/", "app/lib/new/", "app/lib/new/m.py", "app/src/", "app/src/b"},
		},
		{
			name: "same size, mtime set back: the ctime tells",
			change: func(t *testing.T, root string) {
				p := filepath.Join(root, "src/a")
				write(t, root, map[string]string{"src/a": "A"})
				if err := os.Chtimes(p, past, past); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"app/src/a"},
		},
		{
			name: "a mode change only",
			change: func(t *testing.T, root string) {
				if err := os.Chmod(filepath.Join(root, "src/a"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"app/src/a"},
		},
		{
			name: "deletions: a file, a whole directory",
			change: func(t *testing.T, root string) {
				for _, p := range []string{"src/a", "lib/old"} {
					if err := os.RemoveAll(filepath.Join(root, p)); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: []string{"app/lib/", "app/lib/.wh.old", "app/src/", "app/src/.wh.a"},
		},
		{
			name: "a directory replaced: its old names whited out, its new ones written",
			change: func(t *testing.T, root string) {
				if err := os.RemoveAll(filepath.Join(root, "lib/old")); err != nil {
					t.Fatal(err)
				}
				write(t, root, map[string]string{"lib/old/other": "o"})
			},
			want: []string{"app/lib/", "app/lib/old/", "app/lib/old/other", "app/lib/old/.wh.x.py"}, // in the names' order
		},
		{
			name: "a file replaced by a directory",
			change: func(t *testing.T, root string) {
				if err := os.Remove(filepath.Join(root, "src/a")); err != nil {
					t.Fatal(err)
				}
				write(t, root, map[string]string{"src/a/inner": "i"})
			},
			want: []string{"app/src/", "app/src/a/", "app/src/a/inner"},
		},
		{
			name: "a symlink retargeted",
			change: func(t *testing.T, root string) {
				p := filepath.Join(root, "link")
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink("src", p); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"app/link"}, // the tree's own entry is the image's: never written
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, map[string]string{"src/a": "a", "lib/old/x.py": "x"})
			if err := os.Symlink("lib", filepath.Join(root, "link")); err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{"", "src", "lib", "lib/old"} {
				if err := os.Chtimes(filepath.Join(root, d), past, past); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Record(root, Options{})
			if err != nil {
				t.Fatal(err)
			}
			tt.change(t, root)
			opt := Options{Prefix: "app"}
			var b bytes.Buffer
			if err := WriteChanges(&b, s, opt); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries(t, b.Bytes()) {
				names = append(names, e.name)
			}
			listed, err := Changes(s, opt)
			if err != nil {
				t.Fatal(err)
			}
			for i := range listed {
				listed[i] = strings.TrimSuffix(listed[i], "/")
			}
			var trimmed []string
			for _, n := range names {
				trimmed = append(trimmed, strings.TrimSuffix(n, "/"))
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("changes:\n got %q\nwant %q", names, tt.want)
			}
			if !reflect.DeepEqual(listed, trimmed) {
				t.Errorf("Changes lists %q, the layer has %q", listed, trimmed)
			}
		})
	}
}

// Owner maps the build user's files to the image's user, and Exclude
// leaves a part out of both the record and the diff.
func TestWriteChangesOwnerAndExclude(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"src/a": "a", "cache/c": "c"})
	s, err := Record(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, root, map[string]string{"src/b": "b", "cache/d": "d"})
	me := os.Getuid()
	opt := Options{
		Exclude: func(rel string, _ bool) bool { return rel == "cache" },
		Owner: func(uid, gid int) (int, int) {
			if uid == me {
				return 1001, 0
			}
			return uid, gid
		},
	}
	var b bytes.Buffer
	if err := WriteChanges(&b, s, opt); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&b)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name)
		if h.Uid != 1001 || h.Gid != 0 {
			t.Errorf("%s: owner %d:%d, want 1001:0", h.Name, h.Uid, h.Gid)
		}
	}
	if want := []string{"src/", "src/b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
}
