package assemble

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/assemble/artifacts"
)

func TestDepsInPlace(t *testing.T) {
	dir := t.TempDir()
	recorded := filepath.Join(dir, "fingerprint.json")
	fp := artifacts.Fingerprint{"schema": "s", "python": "p", "file:requirements.txt": "r1"}
	if err := fp.Write(recorded); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		path   string
		cur    artifacts.Fingerprint
		curErr error
		want   bool
		says   string
	}{
		{"same inputs", recorded, fp, nil, true, ""},
		{"requirements changed", recorded, artifacts.Fingerprint{"schema": "s", "python": "p", "file:requirements.txt": "r2"}, nil, false, "changed file:requirements.txt"},
		{"another interpreter", recorded, artifacts.Fingerprint{"schema": "s", "python": "q", "file:requirements.txt": "r1"}, nil, false, "changed python"},
		{"nothing recorded", filepath.Join(dir, "none.json"), fp, nil, false, "no such file"},
		{"inputs unreadable", recorded, nil, errors.New("boom"), false, "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if got := depsInPlace(&out, tc.path, tc.cur, tc.curErr); got != tc.want || !strings.Contains(out.String(), tc.says) {
				t.Errorf("= %v, said %q; want %v saying %q", got, out.String(), tc.want, tc.says)
			}
		})
	}
}

// An unchanged fingerprint is not rewritten: the file keeps its inode and
// mtime, so an overlay does not copy it up.
func TestFingerprintWriteUnchanged(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fp.json")
	fp := artifacts.Fingerprint{"a": "1"}
	if err := fp.Write(p); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(p)
	if err := fp.Write(p); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	if !os.SameFile(before, after) {
		t.Error("rewritten")
	}
	if err := (artifacts.Fingerprint{"a": "2"}).Write(p); err != nil {
		t.Fatal(err)
	}
	if got, _ := artifacts.Read(p); got["a"] != "2" {
		t.Errorf("changed fingerprint not written: %v", got)
	}
}
