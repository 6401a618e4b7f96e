package pyindex

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestParsePins(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []Pin
		err        string
	}{
		{"lines and comments", "# c\nflask\n\nflask==2.2.2   # why\nmod_wsgi==5.0.2 --no-binary\n",
			[]Pin{{Req: "flask", Line: 2}, {Req: "flask==2.2.2", Line: 4}, {Req: "mod_wsgi==5.0.2", Sdist: true, Line: 5}}, ""},
		{"sdist needs ==", "mod_wsgi>=5 --no-binary\n", nil, "must be name==version"},
		{"unknown option", "flask --pre\n", nil, `unknown option "--pre"`},
		{"duplicate", "six\nsix\n", nil, "pins.txt:2: six already on line 1"},
		{"empty", "# nothing\n", nil, "no pins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePins(tc.text)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(got) != len(tc.want) {
				t.Fatalf("got %+v, %v", got, err)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("pin %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestDefaultPinsAndLock(t *testing.T) {
	pins, err := ParsePins(DefaultPins())
	if err != nil {
		t.Fatal(err)
	}
	l := DefaultLock()
	// Every top-level name pinned is served (the lock is pins.txt's).
	for _, p := range pins {
		name := p.Req
		if i := strings.IndexAny(name, "=<>![ "); i >= 0 {
			name = name[:i]
		}
		if l.Newest(name) == "" {
			t.Errorf("pins.txt:%d: %s is not in lock.json: run make pin", p.Line, name)
		}
	}
	// What the tests pin.
	for _, f := range []string{"Flask-2.2.2-py3-none-any.whl", "Werkzeug-2.2.3-py3-none-any.whl", "gunicorn-20.1.0-py3-none-any.whl",
		"gunicorn-23.0.0-py3-none-any.whl", "six-1.16.0-py2.py3-none-any.whl", "mod_wsgi-5.0.2.tar.gz", "uwsgi-2.0.21.tar.gz",
		"Django-3.2.25-py3-none-any.whl", "pipenv-2023.11.14-py3-none-any.whl"} {
		found := false
		for _, lf := range l.Files {
			found = found || lf.Filename == f
		}
		if !found {
			t.Errorf("lock.json lacks %s", f)
		}
	}
	if string(l.Marshal()) != string(defaultLockJSON) {
		t.Error("lock.json is not in Marshal's form: run make pin")
	}
}

func TestLockCheck(t *testing.T) {
	good := LockedFile{Name: "six", Version: "1.16.0", Filename: "six-1.16.0-py2.py3-none-any.whl", SHA256: strings.Repeat("a", 64), URL: "https://x/six.whl"}
	for _, tc := range []struct {
		name string
		edit func(*LockedFile)
		err  string
	}{
		{"good", func(*LockedFile) {}, ""},
		{"bad hash", func(f *LockedFile) { f.SHA256 = "abc" }, "bad sha256"},
		{"path in name", func(f *LockedFile) { f.Filename = "../six.whl" }, "bad file name"},
		{"not normalized", func(f *LockedFile) { f.Name = "Six" }, "not normalized"},
		{"no url", func(f *LockedFile) { f.URL = "" }, "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := good
			tc.edit(&f)
			err := Lock{Files: []LockedFile{f}}.Check()
			if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
	l := Lock{Files: []LockedFile{good}}
	other := good
	other.SHA256 = strings.Repeat("b", 64)
	if err := l.Merge(good, other); err == nil || !strings.Contains(err.Error(), "two hashes") {
		t.Errorf("merge of one file name with two hashes: %v", err)
	}
}

func TestNewest(t *testing.T) {
	l := Lock{}
	for _, v := range []string{"2.0.21", "2.0.30.post1", "2.0.9", "2.0.30"} {
		l.Files = append(l.Files, LockedFile{Name: "uwsgi", Version: v})
	}
	if got := l.Newest("uWSGI"); got != "2.0.30.post1" {
		t.Errorf("Newest = %q", got)
	}
	if got := l.Newest("nothing"); got != "" {
		t.Errorf("Newest(nothing) = %q", got)
	}
}

func TestParseReport(t *testing.T) {
	report := `{"version": "1", "install": [{"metadata": {"name": "Flask", "version": "3.1.3", "requires_python": ">=3.9"},
	 "download_info": {"url": "https://files.example/packages/ab/flask-3.1.3-py3-none-any.whl",
	 "archive_info": {"hashes": {"sha256": "` + strings.Repeat("c", 64) + `"}}}}]}`
	got, err := ParseReport([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	want := LockedFile{Name: "flask", Version: "3.1.3", Filename: "flask-3.1.3-py3-none-any.whl", SHA256: strings.Repeat("c", 64),
		RequiresPython: ">=3.9", URL: "https://files.example/packages/ab/flask-3.1.3-py3-none-any.whl"}
	if len(got) != 1 || got[0] != want {
		t.Errorf("got %+v", got)
	}
	if _, err := ParseReport([]byte(`{"install": [{"metadata": {"name": "x", "version": "1"}, "download_info": {"url": "file:///x", "dir_info": {}}}]}`)); err == nil {
		t.Error("a report entry without a hash was accepted")
	}
}

func TestSdistFromProjectJSON(t *testing.T) {
	page := `{"files": [
	 {"filename": "mod_wsgi-5.0.1.tar.gz", "url": "https://f/mod_wsgi-5.0.1.tar.gz", "hashes": {"sha256": "` + strings.Repeat("1", 64) + `"}},
	 {"filename": "mod_wsgi-5.0.2.tar.gz", "url": "https://f/mod_wsgi-5.0.2.tar.gz", "hashes": {"sha256": "` + strings.Repeat("2", 64) + `"}, "requires-python": ">=3.8"},
	 {"filename": "mod_wsgi-4.0.0.tar.gz", "url": "https://f/mod_wsgi-4.0.0.tar.gz", "hashes": {"sha256": "` + strings.Repeat("3", 64) + `"}, "yanked": "broken"}]}`
	got, err := SdistFromProjectJSON([]byte(page), "mod_wsgi", "5.0.2")
	if err != nil || got.Filename != "mod_wsgi-5.0.2.tar.gz" || got.Name != "mod-wsgi" || got.SHA256 != strings.Repeat("2", 64) || got.RequiresPython != ">=3.8" {
		t.Errorf("got %+v, %v", got, err)
	}
	if _, err := SdistFromProjectJSON([]byte(page), "mod_wsgi", "4.0.0"); err == nil || !strings.Contains(err.Error(), "yanked") {
		t.Errorf("yanked: %v", err)
	}
	if _, err := SdistFromProjectJSON([]byte(page), "mod_wsgi", "9"); err == nil {
		t.Error("a missing version was found")
	}
}

func TestParsePipConfig(t *testing.T) {
	out := ":env:.cert='/env/ca.crt'\n:env:.find-links='/opt/wheels'\nglobal.cert='/etc/ca.crt'\nglobal.index-url='https://mirror.example/simple'\n"
	c := ParsePipConfig(out)
	if c.Cert != "/env/ca.crt" || c.IndexURL != "https://mirror.example/simple" {
		t.Errorf("got %+v", c)
	}
	if c := ParsePipConfig(""); c.IndexURL != pipDefaultIndex || c.Cert != "" {
		t.Errorf("empty config: %+v", c)
	}
}

// Build over a real HTTP server on loopback: the files are fetched once,
// laid out as an index with their hashes, and a second build fetches
// nothing; a file whose bytes differ from the lock fails naming the file.
func TestBuildFetchesVerifiesAndLaysOut(t *testing.T) {
	files := map[string][]byte{
		"six-1.16.0-py2.py3-none-any.whl": []byte("six wheel bytes"),
		"mod_wsgi-5.0.2.tar.gz":           []byte("mod_wsgi sdist bytes"),
	}
	hits := map[string]int{}
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		mu.Lock()
		hits[name]++
		mu.Unlock()
		b, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	l := Lock{Files: []LockedFile{
		{Name: "six", Version: "1.16.0", Filename: "six-1.16.0-py2.py3-none-any.whl", SHA256: sum(files["six-1.16.0-py2.py3-none-any.whl"]), URL: srv.URL + "/six-1.16.0-py2.py3-none-any.whl"},
		{Name: "mod-wsgi", Version: "5.0.2", Filename: "mod_wsgi-5.0.2.tar.gz", SHA256: sum(files["mod_wsgi-5.0.2.tar.gz"]), RequiresPython: ">=3.8", URL: srv.URL + "/mod_wsgi-5.0.2.tar.gz"},
	}}
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	ctx := context.Background()
	if err := Build(ctx, l, Options{CacheDir: cache, OutDir: filepath.Join(dir, "a")}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "a", "simple", "mod-wsgi", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `<a href="mod_wsgi-5.0.2.tar.gz#sha256=` + l.Files[1].SHA256 + `" data-requires-python="&gt;=3.8">`; !strings.Contains(string(page), want) {
		t.Errorf("project page lacks %s:\n%s", want, page)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a", "simple", "six", "six-1.16.0-py2.py3-none-any.whl")); err != nil || string(b) != "six wheel bytes" {
		t.Errorf("six: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", ManifestName)); err != nil {
		t.Error(err)
	}
	if err := Build(ctx, l, Options{CacheDir: cache, OutDir: filepath.Join(dir, "b")}); err != nil {
		t.Fatal(err)
	}
	if hits["six-1.16.0-py2.py3-none-any.whl"] != 1 || hits["mod_wsgi-5.0.2.tar.gz"] != 1 {
		t.Errorf("second build downloaded again: %v", hits)
	}

	bad := l
	bad.Files = append([]LockedFile(nil), l.Files...)
	bad.Files[0].SHA256 = strings.Repeat("0", 64)
	os.RemoveAll(cache)
	err = Build(ctx, bad, Options{CacheDir: cache, OutDir: filepath.Join(dir, "c")})
	if err == nil || !strings.Contains(err.Error(), "six-1.16.0-py2.py3-none-any.whl: sha256 is ") {
		t.Fatalf("hash mismatch: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cache, "six-1.16.0-py2.py3-none-any.whl")); !os.IsNotExist(err) {
		t.Error("a file with the wrong hash was kept in the cache")
	}
	missing := l
	missing.Files = []LockedFile{{Name: "gone", Version: "1", Filename: "gone-1.tar.gz", SHA256: strings.Repeat("0", 64), URL: srv.URL + "/gone-1.tar.gz"}}
	if err := Build(ctx, missing, Options{CacheDir: cache, OutDir: filepath.Join(dir, "d")}); err == nil || !strings.Contains(err.Error(), "gone-1.tar.gz") || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing file: %v", err)
	}
}
