package commit

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

type entry struct {
	name, body string
	dir        bool
}

func tarOf(t *testing.T, entries []entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if e.dir {
			hdr = &tar.Header{Name: e.name, Mode: 0o755, Typeflag: tar.TypeDir}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// names lists a layer's entries, and checks its digest and size.
func names(t *testing.T, l Layer) []string {
	t.Helper()
	data, err := os.ReadFile(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != l.Size || digest.FromBytes(data) != l.DiffID || l.DiffID.Algorithm() != digest.SHA256 {
		t.Errorf("%s: size %d digest %s, want %d %x", l.Path, l.Size, l.DiffID, len(data), sha256.Sum256(data))
	}
	var out []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, hdr.Name)
	}
}

func TestSplit(t *testing.T) {
	in := []entry{
		{name: "opt/", dir: true},
		{name: "opt/app-root/", dir: true},
		{name: "opt/app-root/venv/bin/python", body: "elf"},
		{name: "opt/app-root/src/", dir: true},
		{name: "opt/app-root/src/app.py", body: "print(1)"},
		{name: "opt/app-root/src/.wh.old.py"},
		{name: "opt/app-root/.wh.src2"},         // another dir than HOME: outside
		{name: "opt/app-root/src2/x", body: ""}, // a prefix of HOME's name is not HOME
		{name: "opt/app-root/src/sub/.wh..wh..opq"},
		{name: "tmp/src/app.py", body: "dropped"},
		{name: "tmp/.s2i/image_metadata.json", body: `{"labels":[{"a":"b"}]}`},
		{name: "./etc/motd", body: "hi"},
	}
	tests := []struct {
		name          string
		opt           SplitOptions
		outside, home []string
		captured      string
	}{
		{
			name: "home, drop, capture",
			opt: SplitOptions{
				Home:    "/opt/app-root/src",
				Drop:    func(rel string) bool { return rel == "tmp/src" || strings.HasPrefix(rel, "tmp/src/") },
				Capture: "/tmp/.s2i/image_metadata.json",
			},
			outside:  []string{"opt/", "opt/app-root/", "opt/app-root/venv/bin/python", "opt/app-root/.wh.src2", "opt/app-root/src2/x", "tmp/.s2i/image_metadata.json", "./etc/motd"},
			home:     []string{"opt/app-root/src/", "opt/app-root/src/app.py", "opt/app-root/src/.wh.old.py", "opt/app-root/src/sub/.wh..wh..opq"},
			captured: `{"labels":[{"a":"b"}]}`,
		},
		{
			name:    "no home: everything outside",
			opt:     SplitOptions{},
			outside: []string{"opt/", "opt/app-root/", "opt/app-root/venv/bin/python", "opt/app-root/src/", "opt/app-root/src/app.py", "opt/app-root/src/.wh.old.py", "opt/app-root/.wh.src2", "opt/app-root/src2/x", "opt/app-root/src/sub/.wh..wh..opq", "tmp/src/app.py", "tmp/.s2i/image_metadata.json", "./etc/motd"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outside, home, captured, err := Split(tarOf(t, in), t.TempDir(), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(t, outside); !reflect.DeepEqual(got, tt.outside) {
				t.Errorf("outside = %q\nwant %q", got, tt.outside)
			}
			if got := names(t, home); !reflect.DeepEqual(got, tt.home) {
				t.Errorf("home = %q\nwant %q", got, tt.home)
			}
			if string(captured) != tt.captured {
				t.Errorf("captured = %q, want %q", captured, tt.captured)
			}
		})
	}
}

func TestSplitBadInput(t *testing.T) {
	if _, _, _, err := Split(strings.NewReader("not a tar at all, but long enough to be read as a header block..."+strings.Repeat("x", 600)), t.TempDir(), SplitOptions{}); err == nil {
		t.Error("garbage: no error")
	}
	big := tarOf(t, []entry{{name: "m.json", body: strings.Repeat("x", MaxCapture+1)}})
	if _, _, _, err := Split(big, t.TempDir(), SplitOptions{Capture: "/m.json"}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized capture: err = %v", err)
	}
}

// Whiteout sees each whiteout entry that is kept, and its error stops Split:
// the caller tells a deletion from a file named like one.
func TestSplitWhiteoutHook(t *testing.T) {
	in := []entry{
		{name: "opt/app-root/src/app.py", body: "print(1)"},
		{name: "opt/app-root/src/.wh.old.py"},
		{name: "opt/app-root/src/sub/.wh..wh..opq"},
		{name: "tmp/src/.wh.dropped"},
		{name: "etc/.wh.motd"},
	}
	drop := func(rel string) bool { return strings.HasPrefix(rel, "tmp/src/") }
	var seen []string
	opt := SplitOptions{Home: "/opt/app-root/src", Drop: drop, Whiteout: func(rel string) error {
		seen = append(seen, rel)
		return nil
	}}
	if _, _, _, err := Split(tarOf(t, in), t.TempDir(), opt); err != nil {
		t.Fatal(err)
	}
	want := []string{"opt/app-root/src/.wh.old.py", "opt/app-root/src/sub/.wh..wh..opq", "etc/.wh.motd"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("Whiteout saw %q, want %q", seen, want)
	}
	opt.Whiteout = func(rel string) error {
		if rel == "etc/.wh.motd" {
			return errors.New("etc/.wh.motd is a file")
		}
		return nil
	}
	if _, _, _, err := Split(tarOf(t, in), t.TempDir(), opt); err == nil || err.Error() != "etc/.wh.motd is a file" {
		t.Errorf("err = %v, want Whiteout's", err)
	}
}
