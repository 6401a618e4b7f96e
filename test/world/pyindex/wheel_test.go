package pyindex

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io/fs"
	"math/rand"
	"strings"
	"testing"
	"time"
)

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Flask":              "flask",
		"flask":              "flask",
		"Jinja2":             "jinja2",
		"MarkupSafe":         "markupsafe",
		"charset_normalizer": "charset-normalizer",
		"charset-normalizer": "charset-normalizer",
		"Charset.Normalizer": "charset-normalizer",
		"poetry_core":        "poetry-core",
		"virtualenv-clone":   "virtualenv-clone",
		"mod_wsgi":           "mod-wsgi",
		"uWSGI":              "uwsgi",
		"zope.interface":     "zope-interface",
		"a-_.-b":             "a-b",
		"Django":             "django",
		"ruamel.yaml.clib":   "ruamel-yaml-clib",
		"PyYAML":             "pyyaml",
		"typing__extensions": "typing-extensions",
	} {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range [][3]string{
		{"poetry-core", "1.4.0", "poetry_core-1.4.0-py3-none-any.whl"},
		{"Flask", "2.2.2", "Flask-2.2.2-py3-none-any.whl"},
		{"charset-normalizer", "3.0.1", "charset_normalizer-3.0.1-py3-none-any.whl"},
		{"zope.interface", "5.5", "zope_interface-5.5-py3-none-any.whl"},
	} {
		if got := WheelFileName(c[0], c[1], "py3-none-any"); got != c[2] {
			t.Errorf("WheelFileName(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
	for _, c := range [][3]string{
		{"mod_wsgi", "5.0.2", "mod_wsgi-5.0.2.tar.gz"},
		{"mod-wsgi", "5.0.2", "mod_wsgi-5.0.2.tar.gz"},
		{"uWSGI", "2.0.21", "uwsgi-2.0.21.tar.gz"},
		{"gunicorn", "23.0.0", "gunicorn-23.0.0.tar.gz"},
	} {
		if got := SdistFileName(c[0], c[1]); got != c[2] {
			t.Errorf("SdistFileName(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

func sampleFiles() []File {
	return []File{
		{Name: "demo/__init__.py", Data: []byte("from .core import x\n")},
		{Name: "demo/core.py", Data: []byte("x = 1\n")},
		{Name: "demo/data/a,b.txt", Data: []byte("comma in name\n")},
		{Name: "demo/tool.sh", Data: []byte("#!/bin/sh\n"), Exec: true},
		{Name: "demo-1.0.dist-info/METADATA", Data: []byte("Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Python: >=3.7\n")},
		{Name: "demo-1.0.dist-info/WHEEL", Data: []byte("Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")},
		{Name: "demo-1.0.dist-info/entry_points.txt", Data: []byte("[console_scripts]\ndemo = demo.core:main\n")},
	}
}

func TestWheelReproducible(t *testing.T) {
	files := sampleFiles()
	a, err := WheelBytes(files)
	if err != nil {
		t.Fatal(err)
	}
	// Same input in another order, with directory entries and a stale RECORD.
	shuffled := append([]File(nil), files...)
	rand.New(rand.NewSource(1)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	shuffled = append(shuffled, File{Name: "demo/"}, File{Name: "demo-1.0.dist-info/RECORD", Data: []byte("stale")})
	b, err := WheelBytes(shuffled)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("same files, different bytes")
	}
	if err := VerifyRecord(a); err != nil {
		t.Fatal(err)
	}

	// A foreign zip (stored, random dates, odd modes, directories) normalizes
	// to the very same bytes.
	var foreign bytes.Buffer
	zw := zip.NewWriter(&foreign)
	for i, f := range shuffled {
		h := &zip.FileHeader{Name: f.Name, Method: zip.Store, Modified: time.Date(2020+i, 3, 4, 5, 6, 7, 0, time.UTC)}
		switch {
		case strings.HasSuffix(f.Name, "/"):
			h.SetMode(fs.ModeDir | 0o755)
		case f.Exec:
			h.SetMode(0o700)
		default:
			h.SetMode(0o600)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.Data)
	}
	zw.Close()
	n, err := NormalizeWheel(foreign.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, n) {
		t.Fatal("normalized foreign zip differs")
	}

	// Entry order, dates, modes, compression, RECORD content.
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Method != zip.Deflate || f.ModifiedDate != dosDate1980 || f.ModifiedTime != 0 || len(f.Extra) != 0 {
			t.Errorf("%s: method %d date %#x time %#x extra %d", f.Name, f.Method, f.ModifiedDate, f.ModifiedTime, len(f.Extra))
		}
		want := uint32(0o100644)
		if f.Name == "demo/tool.sh" {
			want = 0o100755
		}
		if f.ExternalAttrs>>16 != want || f.CreatorVersion>>8 != 3 {
			t.Errorf("%s: unix mode %o creator %d", f.Name, f.ExternalAttrs>>16, f.CreatorVersion>>8)
		}
	}
	wantNames := "demo/__init__.py demo/core.py demo/data/a,b.txt demo/tool.sh demo-1.0.dist-info/METADATA demo-1.0.dist-info/WHEEL demo-1.0.dist-info/entry_points.txt demo-1.0.dist-info/RECORD"
	if strings.Join(names, " ") != wantNames {
		t.Errorf("order:\n got %s\nwant %s", strings.Join(names, " "), wantNames)
	}
	got, _ := ReadWheel(a)
	rec := string(got[len(got)-1].Data)
	for _, line := range []string{
		"demo/core.py,sha256=" + strings.TrimPrefix(RecordHash([]byte("x = 1\n")), "sha256=") + ",6\n",
		`"demo/data/a,b.txt",sha256=`,
		"demo-1.0.dist-info/RECORD,,\n",
	} {
		if !strings.Contains(rec, line) {
			t.Errorf("RECORD lacks %q:\n%s", line, rec)
		}
	}
	if RecordHash(nil) != "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU" {
		t.Errorf("RecordHash(empty) = %s", RecordHash(nil))
	}

	// A tampered RECORD fails verification.
	bad := append([]File(nil), got...)
	bad[0].Data = []byte("changed")
	var tampered bytes.Buffer
	zw = zip.NewWriter(&tampered)
	for _, f := range bad {
		w, _ := zw.Create(f.Name)
		w.Write(f.Data)
	}
	zw.Close()
	if err := VerifyRecord(tampered.Bytes()); err == nil || !strings.Contains(err.Error(), "demo/__init__.py") {
		t.Errorf("VerifyRecord(tampered) = %v", err)
	}

	// Invalid inputs.
	for _, fs := range [][]File{
		{{Name: "x.py"}}, // no dist-info
		append(sampleFiles(), File{Name: "demo/core.py"}),           // duplicate
		append(sampleFiles(), File{Name: "../escape.py"}),           // path
		append(sampleFiles(), File{Name: "/abs.py"}),                // path
		append(sampleFiles(), File{Name: "o-1.dist-info/METADATA"}), // two dist-info
	} {
		if _, err := WheelBytes(fs); err == nil {
			t.Errorf("WheelBytes(%v): no error", fs[len(fs)-1].Name)
		}
	}
}

func TestDefaultRecipe(t *testing.T) {
	r := DefaultRecipe()
	if err := checkRecipe(r); err != nil {
		t.Fatal(err)
	}
	projects := map[string]bool{}
	for _, w := range r.Wheels {
		projects[NormalizeName(w.Project)] = true
	}
	for _, s := range r.Sdists {
		projects[NormalizeName(s.Project)] = true
		if len(s.SHA256) != 64 {
			t.Errorf("%s: sha256 %q", s.Pool, s.SHA256)
		}
	}
	for _, p := range []string{"flask", "werkzeug", "jinja2", "itsdangerous", "click", "markupsafe", "gunicorn",
		"django", "asgiref", "sqlparse", "pytz", "requests", "charset-normalizer", "urllib3", "idna", "certifi",
		"six", "packaging", "pipenv", "virtualenv", "virtualenv-clone", "distlib", "filelock", "platformdirs",
		"numpy", "blinker", "poetry-core", "mod-wsgi", "uwsgi"} {
		if !projects[p] {
			t.Errorf("default recipe lacks %s", p)
		}
	}
	if len(r.Prebuilt) != 3 {
		t.Errorf("prebuilt = %v", r.Prebuilt)
	}
	// Round trip through JSON.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := ParseRecipe(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(r2)
	if !bytes.Equal(b, b2) {
		t.Error("recipe JSON round trip differs")
	}
	if _, err := ParseRecipe([]byte(`{"wheels":[{"deb":"x","project":"x","typo":1}]}`)); err == nil {
		t.Error("unknown field accepted")
	}
}
