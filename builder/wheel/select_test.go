package wheel

import (
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	tags := []string{"cp311-cp311-manylinux_2_28_x86_64", "cp311-cp311-manylinux_2_17_x86_64", "cp311-abi3-manylinux_2_17_x86_64", "py3-none-any"}
	f := func(name, sha string) File { return File{Filename: name, URL: "http://x/" + name, SHA256: sha} }
	ok := map[string]bool{"a": true, "b": true, "c": true, "d": true}
	tests := []struct {
		name   string
		files  []File
		want   string // chosen filename
		reason string // or the start of the reason
	}{
		{"best tag wins", []File{f("x-1.0-py3-none-any.whl", "a"), f("x-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "b"), f("x-1.0-cp311-cp311-manylinux_2_28_x86_64.whl", "c")}, "x-1.0-cp311-cp311-manylinux_2_28_x86_64.whl", ""},
		{"compressed tag set", []File{f("x-1.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", "a"), f("x-1.0-cp311-abi3-manylinux_2_17_x86_64.whl", "b")}, "x-1.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", ""},
		{"unsupported tags skipped", []File{f("x-1.0-cp313-cp313-manylinux_2_17_x86_64.whl", "a"), f("x-1.0-py3-none-any.whl", "b")}, "x-1.0-py3-none-any.whl", ""},
		{"allowed hash beats better tag", []File{f("x-1.0-cp311-cp311-manylinux_2_28_x86_64.whl", "zz"), f("x-1.0-py3-none-any.whl", "a")}, "x-1.0-py3-none-any.whl", ""},
		{"higher build tag", []File{f("x-1.0-1-py3-none-any.whl", "a"), f("x-1.0-2-py3-none-any.whl", "b")}, "x-1.0-2-py3-none-any.whl", ""},
		{"other versions ignored", []File{f("x-2.0-py3-none-any.whl", "a"), f("x-1.0.0-py3-none-any.whl", "b")}, "x-1.0.0-py3-none-any.whl", ""},
		{"yanked loses", []File{{Filename: "x-1.0-cp311-cp311-manylinux_2_28_x86_64.whl", SHA256: "a", Yanked: true}, f("x-1.0-py3-none-any.whl", "b")}, "x-1.0-py3-none-any.whl", ""},
		{"requires-python", []File{{Filename: "x-1.0-cp311-cp311-manylinux_2_28_x86_64.whl", SHA256: "a", RequiresPython: ">=3.12"}, f("x-1.0-py3-none-any.whl", "b")}, "x-1.0-py3-none-any.whl", ""},
		{"sdist only", []File{f("x-1.0.tar.gz", "a"), f("x-1.0-cp313-cp313-manylinux_2_17_x86_64.whl", "b")}, "", "no wheel"},
		{"nothing", []File{f("x-2.0-py3-none-any.whl", "a")}, "", "no file"},
		{"no allowed hash", []File{f("x-1.0-py3-none-any.whl", "zz")}, "", "no file with an allowed hash"},
		{"index without hashes", []File{f("x-1.0-py3-none-any.whl", "")}, "", "the index gives no sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Choose(tt.files, "x", "1.0", ok, tags, "3.11.2")
			if c.File.Filename != tt.want || !strings.HasPrefix(c.Reason, tt.reason) {
				t.Errorf("got %q (%q), want %q (%q)", c.File.Filename, c.Reason, tt.want, tt.reason)
			}
		})
	}
}

func TestSameVersion(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1.0", "1.0.0", true}, {"1.0", "1.0.1", false}, {"2.2.2", "2.2.2", true},
		{"1.0rc1", "1.0-RC1", true}, {"1.0.post1", "1.0-1", true}, {"1.0a1", "1.0b1", false},
		{"2026.10.19.post1", "2026.10.19.post1", true}, {"1!2.0", "2.0", false}, {"v1.0", "1.0", true},
	}
	for _, tt := range tests {
		if got := SameVersion(tt.a, tt.b); got != tt.want {
			t.Errorf("SameVersion(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}

func TestRequiresPython(t *testing.T) {
	tests := []struct {
		spec string
		want bool
		err  bool
	}{
		{">=3.8", true, false}, {">=3.12", false, false}, {">=3.8, <4", true, false}, {"!=3.11.*", false, false},
		{"==3.11.*", true, false}, {"~=3.10", true, false}, {"~=3.12", false, false}, {">3.11.2", false, false},
		{">=3.8,!=3.0.*", true, false}, {"", true, false}, {">=3.8dev", false, true},
	}
	for _, tt := range tests {
		got, err := RequiresPython(tt.spec, "3.11.2")
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("RequiresPython(%q) = %v, %v", tt.spec, got, err)
		}
	}
}

func TestParseWheelName(t *testing.T) {
	w, err := ParseWheelName("greenlet-3.5.6-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl")
	if err != nil || w.Name != "greenlet" || w.Version != "3.5.6" || strings.Join(w.Tags, " ") != "cp311-cp311-manylinux_2_24_x86_64 cp311-cp311-manylinux_2_28_x86_64" {
		t.Errorf("%+v %v", w, err)
	}
	for _, bad := range []string{"x-1.0.tar.gz", "x-1.0-py3-none.whl", "x-1.0-b1-py3-none-any.whl"} {
		if _, err := ParseWheelName(bad); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func TestRenderRecord(t *testing.T) {
	got := string(RenderRecord([]RecordRow{{"b.py", "sha256=x", "3"}, {"a,b.py", "", ""}, {`q"uote`, "", ""}, {"../../../bin/b", "sha256=y", "1"}}))
	want := "../../../bin/b,sha256=y,1\r\n\"a,b.py\",,\r\nb.py,sha256=x,3\r\n\"q\"\"uote\",,\r\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	rows := ParseRecord(want)
	if len(rows) != 4 || rows[1][0] != "a,b.py" || rows[3][0] != `q"uote` {
		t.Errorf("ParseRecord: %q", rows)
	}
}

func TestScriptText(t *testing.T) {
	tmpl := "# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom %(module)s import %(import_name)s\nif __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit(%(func)s())\n"
	got, err := ScriptText(EntryPoint{Name: "flask", Value: "flask.cli:main"}, "#!/opt/app-root/bin/python3\n", tmpl)
	want := "#!/opt/app-root/bin/python3\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom flask.cli import main\nif __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n    sys.exit(main())\n"
	if err != nil || string(got) != want {
		t.Errorf("got %q, %v", got, err)
	}
	got, _ = ScriptText(EntryPoint{Name: "x", Value: "pkg.mod:Cls.run [extra]"}, "", "from %(module)s import %(import_name)s; %(func)s()")
	if string(got) != "from pkg.mod import Cls; Cls.run()" {
		t.Errorf("got %q", got)
	}
	for _, bad := range []string{"pkg.mod", "pkg:", "a b:c"} {
		if _, err := ScriptText(EntryPoint{Name: "x", Value: bad}, "", tmpl); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseEntryPoints(t *testing.T) {
	console, gui := ParseEntryPoints("[console_scripts]\n# c\nfoo = a:b\nbar=c:d\nfoo = e:f\n\n[gui_scripts]\nthonny = thonny:launch\n[other]\nx = y:z\n")
	if len(console) != 2 || console[0] != (EntryPoint{"foo", "e:f", false}) || console[1].Name != "bar" || len(gui) != 1 || !gui[0].GUI {
		t.Errorf("%+v %+v", console, gui)
	}
}

func TestSplitLine(t *testing.T) {
	tests := []struct {
		line, spec string
		hashes     int
		ok         bool
	}{
		{`flask==2.2.2; python_version >= "3.8" --hash=sha256:aa --hash=sha256:bb`, `flask==2.2.2; python_version >= "3.8"`, 2, true},
		{"six==1.0 --hash sha256:aa", "six==1.0", 1, true},
		{"-e ./src", "", 0, false},
		{"six==1.0 --no-binary six", "", 0, false},
	}
	for _, tt := range tests {
		r, ok := SplitLine(tt.line)
		if ok != tt.ok || (ok && (r.Spec != tt.spec || len(r.Hashes) != tt.hashes)) {
			t.Errorf("SplitLine(%q) = %+v, %v", tt.line, r, ok)
		}
	}
}

func TestParseHTMLPage(t *testing.T) {
	page := `<!DOCTYPE html><html><body>
<a href="../../files/x-1.0-py3-none-any.whl#sha256=ABC" data-requires-python="&gt;=3.8">x-1.0-py3-none-any.whl</a>
<a data-yanked="" href='https://other/x-1.0.tar.gz'>x</a></body></html>`
	base := mustURL(t, "http://u:p@127.0.0.1:8/simple/x/")
	files, err := parseHTMLPage(page, base)
	if err != nil || len(files) != 2 {
		t.Fatalf("%+v %v", files, err)
	}
	if f := files[0]; f.Filename != "x-1.0-py3-none-any.whl" || f.SHA256 != "abc" || f.RequiresPython != ">=3.8" || f.URL != "http://u:p@127.0.0.1:8/files/x-1.0-py3-none-any.whl" {
		t.Errorf("%+v", f)
	}
	if f := files[1]; !f.Yanked || f.URL != "https://other/x-1.0.tar.gz" {
		t.Errorf("%+v", f)
	}
}

func TestParseJSONPage(t *testing.T) {
	page := `{"meta":{"api-version":"1.0"},"name":"x","files":[
{"filename":"x-1.0-py3-none-any.whl","url":"../../files/x-1.0-py3-none-any.whl","hashes":{"sha256":"ABC"},"requires-python":">=3.8"},
{"filename":"x-0.9.tar.gz","url":"https://other/x-0.9.tar.gz","hashes":{},"yanked":"broken"}]}`
	files, err := parseJSONPage([]byte(page), mustURL(t, "https://idx/simple/x/"))
	if err != nil || len(files) != 2 {
		t.Fatalf("%+v %v", files, err)
	}
	if f := files[0]; f.SHA256 != "abc" || f.URL != "https://idx/files/x-1.0-py3-none-any.whl" || f.RequiresPython != ">=3.8" || f.Yanked {
		t.Errorf("%+v", f)
	}
	if f := files[1]; !f.Yanked || f.SHA256 != "" {
		t.Errorf("%+v", f)
	}
}
