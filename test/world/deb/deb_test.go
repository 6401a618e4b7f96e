package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// arMember writes one ar member with GNU name termination and padding.
func arMember(w *bytes.Buffer, name string, data []byte) {
	fmt.Fprintf(w, "%-16s%-12d%-6d%-6d%-8o%-10d`\n", name+"/", 1700000000, 0, 0, 0o100644, len(data))
	w.Write(data)
	if len(data)%2 == 1 {
		w.WriteByte('\n')
	}
}

type tarEntry struct {
	name, body, link string
	typ              byte
}

func makeTar(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ == tar.TypeDir {
			h.Mode = 0o755
		}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func compress(t *testing.T, kind string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	switch kind {
	case "gz":
		w := gzip.NewWriter(&b)
		w.Write(data)
		w.Close()
	case "xz":
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
	case "zst":
		w, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
	case "":
		b.Write(data)
	default:
		t.Fatalf("kind %q", kind)
	}
	return b.Bytes()
}

const controlText = `Package: hello-test
Version: 1:2.3.4+dfsg-5+deb12u1
Architecture: all
Depends: python3:any, python3-six (>= 1.0)
Description: a test package
 with a long description
 .
 over lines
`

// TestHandMadeDeb builds .debs by hand with every supported compression
// and odd-sized members (ar padding), then reads them back.
func TestHandMadeDeb(t *testing.T) {
	for _, kinds := range [][2]string{{"gz", "xz"}, {"xz", "zst"}, {"zst", "gz"}, {"", ""}} {
		t.Run(kinds[0]+"-"+kinds[1], func(t *testing.T) {
			ctl := makeTar(t, []tarEntry{
				{name: "./", typ: tar.TypeDir},
				{name: "./control", body: controlText, typ: tar.TypeReg},
				{name: "./md5sums", body: "x  usr/bin/hello\n", typ: tar.TypeReg},
			})
			data := makeTar(t, []tarEntry{
				{name: "./", typ: tar.TypeDir},
				{name: "./usr/", typ: tar.TypeDir},
				{name: "./usr/bin/hello", body: "#!/bin/sh\necho hi\n", typ: tar.TypeReg},
				{name: "./usr/bin/hi", link: "hello", typ: tar.TypeSymlink},
				{name: "./usr/share/odd", body: "odd", typ: tar.TypeReg},
			})
			sfx := func(k string) string {
				if k == "" {
					return ""
				}
				return "." + k
			}
			var ar bytes.Buffer
			ar.WriteString("!<arch>\n")
			arMember(&ar, "debian-binary", []byte("2.0\n"))
			arMember(&ar, "control.tar"+sfx(kinds[0]), compress(t, kinds[0], ctl))
			arMember(&ar, "data.tar"+sfx(kinds[1]), compress(t, kinds[1], data))
			arMember(&ar, "_gpgbuilder", []byte("odd"))
			p := filepath.Join(t.TempDir(), "hello.deb")
			if err := os.WriteFile(p, ar.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}

			f, err := Control(p)
			if err != nil {
				t.Fatal(err)
			}
			if f["Package"] != "hello-test" || f["Version"] != "1:2.3.4+dfsg-5+deb12u1" ||
				f["Depends"] != "python3:any, python3-six (>= 1.0)" ||
				f["Description"] != "a test package\nwith a long description\n.\nover lines" {
				t.Errorf("control fields: %q", f)
			}
			if got := UpstreamVersion(f["Version"]); got != "2.3.4" {
				t.Errorf("UpstreamVersion = %q", got)
			}

			var seen []string
			err = WalkData(p, func(h *tar.Header, r io.Reader) error {
				b, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				seen = append(seen, fmt.Sprintf("%s %c %s%s", CleanName(h.Name), h.Typeflag, b, h.Linkname))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{". 5 ", "usr 5 ", "usr/bin/hello 0 #!/bin/sh\necho hi\n", "usr/bin/hi 2 hello", "usr/share/odd 0 odd"}
			if strings.Join(seen, "|") != strings.Join(want, "|") {
				t.Errorf("data entries:\n got %q\nwant %q", seen, want)
			}

			// SkipAll stops early without error.
			n := 0
			if err := WalkData(p, func(*tar.Header, io.Reader) error { n++; return SkipAll }); err != nil || n != 1 {
				t.Errorf("SkipAll: n=%d err=%v", n, err)
			}
		})
	}
}

func TestBadArchives(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var noData bytes.Buffer
	noData.WriteString("!<arch>\n")
	arMember(&noData, "debian-binary", []byte("2.0\n"))
	var notDeb bytes.Buffer
	notDeb.WriteString("!<arch>\n")
	arMember(&notDeb, "hello.o", []byte("x"))
	var truncated bytes.Buffer
	truncated.WriteString("!<arch>\n")
	arMember(&truncated, "debian-binary", []byte("2.0\n"))
	truncated.WriteString("data.tar.gz/    0           0     0     100644  9999      `\nabc")
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"magic.deb", []byte("PK\x03\x04 not an ar archive"), "bad magic"},
		{"nodata.deb", noData.Bytes(), "no data.tar member"},
		{"notdeb.deb", notDeb.Bytes(), "not a Debian package"},
		{"truncated.deb", truncated.Bytes(), "data.tar.gz"},
	} {
		err := WalkData(write(c.name, c.data), func(*tar.Header, io.Reader) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
}

func TestParseControlAndVersions(t *testing.T) {
	f, err := ParseControl(strings.NewReader("# comment\n\nA: 1\nB:two\n  cont\nC: 3\n\nD: next paragraph\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != 3 || f["A"] != "1" || f["B"] != "two\n cont" || f["C"] != "3" {
		t.Errorf("ParseControl = %q", f)
	}
	if _, err := ParseControl(strings.NewReader(" orphan\n")); err == nil {
		t.Error("continuation without field: no error")
	}
	for in, want := range map[string]string{
		"1:1.24.2-1+deb12u1":     "1.24.2",
		"3:3.2.25-0+deb12u3":     "3.2.25",
		"2022.12.19+ds-1":        "2022.12.19",
		"20.17.1+ds-1":           "20.17.1",
		"23.0.1+dfsg-1":          "23.0.1",
		"2.2.2-3":                "2.2.2",
		"1.0":                    "1.0",
		"3.6.1+dfsg+~3.5.14-1":   "3.6.1",
		"12.2.0-14+deb12u1":      "12.2.0",
		"0.4.2-1+deb12u1":        "0.4.2",
		"2.28.1+dfsg-1":          "2.28.1",
		"1:2.0.21-5.1+b1":        "2.0.21",
		"66.1.1-1+deb12u2":       "66.1.1",
		"2.1.2-1+b1":             "2.1.2",
		"5.0.2-1~bpo12+1":        "5.0.2",
		"1.2.3-0ubuntu1~22.04.1": "1.2.3",
	} {
		if got := UpstreamVersion(in); got != want {
			t.Errorf("UpstreamVersion(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"./usr/bin/x": "usr/bin/x", "./": ".", "usr/lib/": "usr/lib", "/etc/../etc/a": "etc/a"} {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRealDeb downloads python3-six from the host's configured mirror and
// compares what this package reads with dpkg-deb.
func TestRealDeb(t *testing.T) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("no apt-get")
	}
	dir := t.TempDir()
	cmd := exec.Command("apt-get", "download", "python3-six")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get download python3-six: %v\n%s", err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(dir, "python3-six_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("downloaded %v", debs)
	}
	p := debs[0]

	f, err := Control(p)
	if err != nil {
		t.Fatal(err)
	}
	if f["Package"] != "python3-six" || f["Architecture"] != "all" || !strings.Contains(f["Depends"], "python3") {
		t.Errorf("control: %q", f)
	}
	if !strings.HasPrefix(filepath.Base(p), "python3-six_"+strings.ReplaceAll(f["Version"], ":", "%3a")+"_") {
		t.Errorf("version %q does not match file %s", f["Version"], filepath.Base(p))
	}

	var names []string
	var six []byte
	err = WalkData(p, func(h *tar.Header, r io.Reader) error {
		n := CleanName(h.Name)
		names = append(names, n)
		if n == "usr/lib/python3/dist-packages/six.py" {
			var err error
			six, err = io.ReadAll(r)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(six, []byte("Utilities for writing code that runs on Python 2 and 3")) {
		t.Errorf("six.py not read (%d bytes)", len(six))
	}

	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		return
	}
	out, err := exec.Command("dpkg-deb", "--fsys-tarfile", p).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, CleanName(h.Name))
	}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries differ from dpkg-deb:\n%v\n%v", names, want)
	}
	for _, k := range []string{"Package", "Version", "Depends", "Maintainer"} {
		out, err := exec.Command("dpkg-deb", "-f", p, k).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(out)); got != f[k] {
			t.Errorf("%s: dpkg-deb says %q, Control %q", k, got, f[k])
		}
	}
}
