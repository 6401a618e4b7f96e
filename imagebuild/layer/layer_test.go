package layer

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

type entry struct {
	name, link string
	typ        byte
	body       string
}

func entries(t *testing.T, b []byte) []entry {
	t.Helper()
	var out []entry
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		out = append(out, entry{h.Name, h.Linkname, h.Typeflag, string(body)})
	}
}

func write(t *testing.T, root string, files map[string]string) {
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

func TestWriteDir(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"b/x": "x", "a": "a", "dev/null2": "n"})
	if err := os.Link(filepath.Join(root, "a"), filepath.Join(root, "c")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(root, "d")); err != nil {
		t.Fatal(err)
	}
	// A FIFO stays; device nodes would be dropped (cannot create one portably here).
	if err := exec.Command("mkfifo", filepath.Join(root, "f")).Run(); err != nil {
		t.Fatal(err)
	}
	var b1, b2 bytes.Buffer
	opt := Options{Exclude: ExcludeDev, Clamp: time.Unix(1000, 0)}
	if err := WriteDir(&b1, root, opt); err != nil {
		t.Fatal(err)
	}
	if err := WriteDir(&b2, root, opt); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Error("two writes of the same tree differ")
	}
	got := entries(t, b1.Bytes())
	want := []entry{
		{"a", "", tar.TypeReg, "a"},
		{"b/", "", tar.TypeDir, ""},
		{"b/x", "", tar.TypeReg, "x"},
		{"c", "a", tar.TypeLink, ""},
		{"d", "a", tar.TypeSymlink, ""},
		{"dev/", "", tar.TypeDir, ""},
		{"f", "", tar.TypeFifo, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries:\n got %v\nwant %v", got, want)
	}
	tr := tar.NewReader(bytes.NewReader(b1.Bytes()))
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		if h.ModTime.After(time.Unix(1000, 0)) {
			t.Errorf("%s: mtime %v not clamped", h.Name, h.ModTime)
		}
		if h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner names %q/%q, want numeric only", h.Name, h.Uname, h.Gname)
		}
	}
}

func TestWriteDiff(t *testing.T) {
	lower, upper := t.TempDir(), t.TempDir()
	write(t, lower, map[string]string{"same": "s", "changed": "old", "gone": "g", "gonedir/x": "x", "keep/a": "a"})
	if err := exec.Command("cp", "-a", lower+"/.", upper).Run(); err != nil {
		t.Fatal(err)
	}
	// Same size, same mtime, different bytes: caught by the content check.
	sneaky := filepath.Join(upper, "changed")
	fi, _ := os.Stat(sneaky)
	write(t, upper, map[string]string{"changed": "new", "keep/b": "b", "newdir/y": "y"})
	if err := os.Chtimes(sneaky, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"gone", "gonedir"} {
		if err := os.RemoveAll(filepath.Join(upper, p)); err != nil {
			t.Fatal(err)
		}
	}
	// keep/ got a new child, so its mtime changed and its entry is emitted.
	var b bytes.Buffer
	if err := WriteDiff(&b, lower, upper, Options{}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries(t, b.Bytes()) {
		names = append(names, e.name)
	}
	want := []string{"changed", ".wh.gone", ".wh.gonedir", "keep/", "keep/b", "newdir/", "newdir/y"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("diff entries:\n got %q\nwant %q", names, want)
	}
}

func TestWriteDirPrefix(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"bin/go": "go"})
	if err := os.Link(filepath.Join(root, "bin/go"), filepath.Join(root, "bin/go2")); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteDir(&b, root, Options{Prefix: "usr/local/go"}); err != nil {
		t.Fatal(err)
	}
	want := []entry{
		{"usr/local/go/", "", tar.TypeDir, ""},
		{"usr/local/go/bin/", "", tar.TypeDir, ""},
		{"usr/local/go/bin/go", "", tar.TypeReg, "go"},
		{"usr/local/go/bin/go2", "usr/local/go/bin/go", tar.TypeLink, ""},
	}
	if got := entries(t, b.Bytes()); !reflect.DeepEqual(got, want) {
		t.Errorf("entries:\n got %v\nwant %v", got, want)
	}
	// OmitDir leaves out directories' own entries, the prefix's too, not
	// their content.
	b.Reset()
	if err := WriteDir(&b, root, Options{Prefix: "usr/local/go", OmitDir: func(string) bool { return true }}); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, b.Bytes()); !reflect.DeepEqual(got, want[2:]) {
		t.Errorf("entries without the directories':\n got %v\nwant %v", got, want[2:])
	}
}

func TestSameContent(t *testing.T) {
	big := string(bytes.Repeat([]byte("x"), 200<<10))
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "abcd", false},
		{big, big, true},
		{big, big[:len(big)-1] + "y", false},
		{big, big + "x", false},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		if err := os.WriteFile(a, []byte(tt.a), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(b, []byte(tt.b), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := SameContent(a, b)
		if err != nil || got != tt.want {
			t.Errorf("%d: SameContent(%d bytes, %d bytes) = %v, %v; want %v", i, len(tt.a), len(tt.b), got, err, tt.want)
		}
	}
	if _, err := SameContent(filepath.Join(dir, "missing"), filepath.Join(dir, "a")); err == nil {
		t.Error("a missing file: no error")
	}
}

// A file named like a whiteout cannot be written as itself: a reader of the
// layer would take it for a deletion. Both walkers refuse it, naming it.
func TestWriteRefusesWhiteoutNames(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		opt     Options
		wantErr string // "" for no error
	}{
		{name: "plain names", files: []string{"a", "dir/wh.x", "dir/x.wh.y"}},
		{name: "a whiteout name", files: []string{"a", "dir/.wh.app.py"}, wantErr: `layer: dir/.wh.app.py: a name starting with ".wh."`},
		{name: "an opaque marker", files: []string{"dir/.wh..wh..opq"}, wantErr: "layer: dir/.wh..wh..opq: "},
		{name: "a directory", files: []string{".wh.d/x"}, wantErr: "layer: .wh.d: "},
		{name: "named with the prefix", files: []string{"lib/.wh.x"}, opt: Options{Prefix: "opt/app-root"}, wantErr: "layer: opt/app-root/lib/.wh.x: "},
		{
			name: "excluded", files: []string{"a", "skip/.wh.x"},
			opt: Options{Exclude: func(rel string, isDir bool) bool { return rel == "skip" }},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			for _, f := range tt.files {
				files[f] = "x"
			}
			root := t.TempDir()
			write(t, root, files)
			empty := t.TempDir()
			for _, w := range []struct {
				name string
				fn   func(io.Writer) error
			}{
				{"WriteDir", func(b io.Writer) error { return WriteDir(b, root, tt.opt) }},
				{"WriteDiff", func(b io.Writer) error { return WriteDiff(b, empty, root, tt.opt) }},
			} {
				err := w.fn(io.Discard)
				if tt.wantErr == "" && err != nil {
					t.Errorf("%s: %v", w.name, err)
				}
				if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Errorf("%s: error = %v, want %q", w.name, err, tt.wantErr)
				}
			}
		})
	}
}
