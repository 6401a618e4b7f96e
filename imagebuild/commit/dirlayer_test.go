package commit

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDirLayer(t *testing.T) {
	src := t.TempDir()
	mk := func(p, body string, mode os.FileMode) {
		full := filepath.Join(src, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil { // not the umask's
			t.Fatal(err)
		}
		if err := os.Chown(full, 1001, 0); err != nil {
			t.Fatal(err)
		}
	}
	mk("app-root/bin/tool", "#!/bin/sh\n", 0o775)
	mk("app-root/lib/mod.so", "elf", 0o664)
	mk("app-root/src/app.py", "print(1)\n", 0o664)
	if err := os.Symlink("/usr/bin/python3", filepath.Join(src, "app-root/bin/python3")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(src, "app-root/bin/tool"), filepath.Join(src, "app-root/bin/tool2")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../etc/shadow", filepath.Join(src, "single-link")); err != nil {
		t.Fatal(err)
	}
	mk("single.txt", "one", 0o640)
	if err := os.Chmod(filepath.Join(src, "app-root"), os.ModeSetgid|0o775); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "l.tar")
	clamp := time.Unix(1700000000, 0).UTC()
	l, err := DirLayer(out, []string{"/opt"}, []DirPart{
		{Host: filepath.Join(src, "app-root"), Name: "/opt/app-root", Exclude: func(rel string, _ bool) bool { return rel == "src" }},
		{Host: filepath.Join(src, "single.txt"), Name: "w/single.txt"},
		{Host: filepath.Join(src, "single-link"), Name: "/w/link"},
	}, clamp)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi, _ := f.Stat(); fi.Size() != l.Size {
		t.Errorf("size %d, layer says %d", fi.Size(), l.Size)
	}
	var got []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		if h.ModTime.After(clamp) {
			t.Errorf("%s: mtime %v after the clamp", h.Name, h.ModTime)
		}
		got = append(got, fmt.Sprintf("%s %c %o %d:%d %s%s", h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid, h.Linkname, body))
	}
	want := []string{
		"opt/ 5 755 0:0 ",
		"opt/app-root/ 5 2775 0:0 ",
		"opt/app-root/bin/ 5 755 0:0 ",
		"opt/app-root/bin/python3 2 777 0:0 /usr/bin/python3",
		"opt/app-root/bin/tool 0 775 1001:0 #!/bin/sh\n",
		"opt/app-root/bin/tool2 1 775 1001:0 opt/app-root/bin/tool",
		"opt/app-root/lib/ 5 755 0:0 ",
		"opt/app-root/lib/mod.so 0 664 1001:0 elf",
		"w/single.txt 0 640 1001:0 one",
		"w/link 2 777 0:0 ../../../../etc/shadow",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("layer:\n%q\nwant:\n%q", got, want)
	}
	if _, err := DirLayer(filepath.Join(t.TempDir(), "x.tar"), nil, []DirPart{{Host: src, Name: "/"}}, time.Time{}); err == nil {
		t.Error("a tree at / was accepted")
	}
	if _, err := DirLayer(filepath.Join(t.TempDir(), "x.tar"), nil, []DirPart{{Host: filepath.Join(src, "nope"), Name: "/x"}}, time.Time{}); err == nil {
		t.Error("a missing tree was accepted")
	}
}

// An artifact named like a whiteout fails the layer, named as in the image
// (the host path it was read from means nothing to the user).
func TestDirLayerRefusesWhiteoutNames(t *testing.T) {
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "src", ".wh.app.py"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := DirLayer(filepath.Join(t.TempDir(), "x.tar"), nil, []DirPart{{Host: src, Name: "/opt/app-root"}}, time.Time{})
	want := `layer: opt/app-root/src/.wh.app.py: a name starting with ".wh." is read as a whiteout in an image layer`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want %q...", err, want)
	}
}
