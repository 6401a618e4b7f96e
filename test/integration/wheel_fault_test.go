package integration

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// member is one file of a test wheel.
type member struct {
	name    string
	body    string
	symlink bool
}

// makeWheel builds demo-1.0-py3-none-any.whl; lie makes RECORD give the
// first member a wrong hash.
func makeWheel(t *testing.T, members []member, lie bool) []byte {
	t.Helper()
	info := "demo-1.0.dist-info/"
	all := append(append([]member(nil), members...),
		member{name: info + "METADATA", body: "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"},
		member{name: info + "WHEEL", body: "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"})
	var record strings.Builder
	for i, m := range all {
		sum := sha256.Sum256([]byte(m.body))
		h := base64.RawURLEncoding.EncodeToString(sum[:])
		if lie && i == 0 {
			h = base64.RawURLEncoding.EncodeToString(make([]byte, 32))
		}
		fmt.Fprintf(&record, "%s,sha256=%s,%d\n", m.name, h, len(m.body))
	}
	record.WriteString(info + "RECORD,,\n")
	all = append(all, member{name: info + "RECORD", body: record.String()})
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range all {
		hdr := &zip.FileHeader{Name: m.name, Method: zip.Deflate}
		hdr.SetMode(0o644)
		if m.symlink {
			hdr.SetMode(os.ModeSymlink | 0o777)
		}
		f, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(m.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeIndex serves one project "demo" whose page advertises sha256 of
// advertised and whose file handler is serve.
func fakeIndex(t *testing.T, filename string, advertised []byte, serve http.HandlerFunc) string {
	t.Helper()
	sum := sha256.Sum256(advertised)
	mux := http.NewServeMux()
	mux.HandleFunc("/simple/demo/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><body><a href="/files/%s#sha256=%s">%s</a></body></html>`, filename, hex.EncodeToString(sum[:]), filename)
	})
	mux.HandleFunc("/files/"+filename, serve)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/simple"
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Each fault is a clear error and the venv exactly as it was (no staging
// area left behind).
func TestWheelInstallerFaults(t *testing.T) {
	good := makeWheel(t, []member{{name: "demo/__init__.py", body: "x = 1\n"}}, false)
	tests := []struct {
		name    string
		wheel   []byte
		allowed []byte // what the lock's hash is of
		serve   func(b []byte) http.HandlerFunc
		want    string
		prepare string // a shell script run in site-packages first (undone after)
	}{
		{"hash mismatch", good, append([]byte("other"), good...), nil, "hash mismatch for demo-1.0-py3-none-any.whl", ""},
		{"truncated download", good, good, func(b []byte) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(len(b)))
				w.Write(b[:len(b)/2])
			}
		}, "truncated after", ""},
		{"RECORD lies", makeWheel(t, []member{{name: "demo/__init__.py", body: "x = 1\n"}}, true), nil, nil, "RECORD lies about demo/__init__.py", ""},
		{"dot-dot path", makeWheel(t, []member{{name: "demo/__init__.py", body: ""}, {name: "../../../../evil.py", body: "evil\n"}}, false), nil, nil, "outside the target directory", ""},
		{"dot-dot in .data", makeWheel(t, []member{{name: "demo/__init__.py", body: ""}, {name: "demo-1.0.data/scripts/../../../../../evil", body: "evil\n"}}, false), nil, nil, "outside the target directory", ""},
		{"absolute path", makeWheel(t, []member{{name: "demo/__init__.py", body: ""}, {name: "/tmp/evil.py", body: "evil\n"}}, false), nil, nil, "absolute path", ""},
		{"symlink", makeWheel(t, []member{{name: "demo/__init__.py", body: ""}, {name: "demo/link", body: "/etc/passwd", symlink: true}}, false), nil, nil, "is a symlink", ""},
		{"symlink out of the venv", makeWheel(t, []member{{name: "demo/__init__.py", body: ""}}, false), nil, nil, "leads outside the venv",
			"mkdir -p ../../../../outside && ln -s ../../../../outside demo"},
		{"fails mid-move", makeWheel(t, []member{{name: "demo/a.py", body: "new\n"}, {name: "demo/b.py", body: "new\n"}, {name: "demo/z.py", body: "new\n"}}, false), nil, nil, "z.py is a directory",
			"mkdir -p demo/z.py && echo old > demo/a.py"},
	}
	base := t.TempDir()
	venv := filepath.Join(base, "venv")
	hostVenv(t, venv)
	env := venvEnv(venv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := filepath.Join(venv, "lib", "python3.11", "site-packages")
			if tt.prepare != "" {
				cmd := exec.Command("sh", "-ec", tt.prepare)
				cmd.Dir = sp
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", tt.prepare, err, out)
				}
				t.Cleanup(func() { os.RemoveAll(filepath.Join(sp, "demo")); os.RemoveAll(filepath.Join(base, "outside")) })
			}
			before := snapshot(t, venv)
			allowed := tt.allowed
			if allowed == nil {
				allowed = tt.wheel
			}
			serve := func(w http.ResponseWriter, r *http.Request) { w.Write(tt.wheel) }
			if tt.serve != nil {
				serve = tt.serve(tt.wheel)
			}
			index := fakeIndex(t, "demo-1.0-py3-none-any.whl", allowed, serve)
			res, log, err := installWheelsFrom(t, venv, env, index, []string{"demo==1.0 --hash=sha256:" + sha256Hex(allowed)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one with %q (result %+v)\n%s", err, tt.want, res, log)
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), "127.0.0.1") && strings.Contains(index, "@") {
				t.Errorf("credentials in %v", err)
			}
			if after := snapshot(t, venv); !reflect.DeepEqual(before, after) {
				t.Errorf("the venv changed:\n%s", strings.Join(compareTrees(before, after), "\n"))
			}
		})
	}
}

// A full disk mid-install (a small tmpfs as the venv's file system) is an
// error, and the venv is as it was.
func TestWheelInstallerDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", mnt, err, out)
		}
	})
	venv := filepath.Join(mnt, "venv")
	hostVenv(t, venv)
	env := venvEnv(venv)
	before := snapshot(t, venv)
	_, log, err := installWheelsFrom(t, venv, env, w.Index.URL, lockLines(t, []string{"six", "numpy", "pandas"}))
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("error %v, want ENOSPC\n%s", err, log)
	}
	t.Logf("error: %v", err)
	if after := snapshot(t, venv); !reflect.DeepEqual(before, after) {
		t.Errorf("the venv changed:\n%s", strings.Join(compareTrees(before, after), "\n"))
	}
	ents, _ := os.ReadDir(venv)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".pys2i") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
