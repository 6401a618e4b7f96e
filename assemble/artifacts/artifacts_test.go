package artifacts

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompute(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "requirements.txt"), "flask\n")
	write(t, filepath.Join(dir, "app.py"), "x")
	base := []string{"PIP_INDEX_URL=https://user:s3cret@idx/simple", "HOME=/h", "PIP_NO_CACHE_DIR=off"}
	fp, err := Compute(dir, base, "3.11.2")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := fingerprintJSON(fp)
	if strings.Contains(raw, "s3cret") || strings.Contains(raw, "user") {
		t.Errorf("credentials stored: %s", raw)
	}
	for _, k := range []string{"file:requirements.txt", "env:PIP_INDEX_URL", "python", "schema"} {
		if fp[k] == "" {
			t.Errorf("missing %s in %v", k, fp)
		}
	}
	if _, ok := fp["file:app.py"]; ok {
		t.Error("app.py is not a dependency input")
	}
	same, _ := Compute(dir, append(base, "HOME=/other", "PIP_NO_CACHE_DIR=1", "ENABLE_PIPENV="), "3.11.2")
	if !fp.Equal(same) {
		t.Errorf("irrelevant changes changed the fingerprint: %v", fp.Diff(same))
	}
	for _, tc := range []struct {
		name   string
		change func() (Fingerprint, error)
		diff   string
	}{
		{"requirements", func() (Fingerprint, error) {
			d := t.TempDir()
			write(t, filepath.Join(d, "requirements.txt"), "flask==2.2.2\n")
			return Compute(d, base, "3.11.2")
		}, "file:requirements.txt"},
		{"python", func() (Fingerprint, error) { return Compute(dir, base, "3.12.0") }, "python"},
		{"index", func() (Fingerprint, error) {
			return Compute(dir, []string{"PIP_INDEX_URL=https://user:s3cret@other-idx/simple"}, "3.11.2")
		}, "env:PIP_INDEX_URL"},
		{"flag", func() (Fingerprint, error) { return Compute(dir, append(base, "ENABLE_MICROPIPENV=1"), "3.11.2") }, "env:ENABLE_MICROPIPENV"},
		{"lock", func() (Fingerprint, error) {
			d := t.TempDir()
			write(t, filepath.Join(d, "requirements.txt"), "flask\n")
			write(t, filepath.Join(d, "poetry.lock"), "x")
			return Compute(d, base, "3.11.2")
		}, "file:poetry.lock"},
		{"uv.lock", func() (Fingerprint, error) {
			d := t.TempDir()
			write(t, filepath.Join(d, "requirements.txt"), "flask\n")
			write(t, filepath.Join(d, "uv.lock"), "version = 1\n")
			return Compute(d, base, "3.11.2")
		}, "file:uv.lock"},
		{"pylock.toml", func() (Fingerprint, error) {
			d := t.TempDir()
			write(t, filepath.Join(d, "requirements.txt"), "flask\n")
			write(t, filepath.Join(d, "pylock.toml"), "lock-version = '1.0'\n")
			return Compute(d, base, "3.11.2")
		}, "file:pylock.toml"},
		{"pylock.NAME.toml", func() (Fingerprint, error) {
			d := t.TempDir()
			write(t, filepath.Join(d, "requirements.txt"), "flask\n")
			write(t, filepath.Join(d, "pylock.prod.toml"), "lock-version = '1.0'\n")
			return Compute(d, base, "3.11.2")
		}, "file:pylock.prod.toml"},
		{"lock extras", func() (Fingerprint, error) { return Compute(dir, append(base, "PYS2I_LOCK_EXTRAS=socks"), "3.11.2") }, "env:PYS2I_LOCK_EXTRAS"},
		{"lock groups", func() (Fingerprint, error) { return Compute(dir, append(base, "PYS2I_LOCK_GROUPS=dev"), "3.11.2") }, "env:PYS2I_LOCK_GROUPS"},
		{"lock file", func() (Fingerprint, error) {
			return Compute(dir, append(base, "PYS2I_LOCK_FILE=pylock.prod.toml"), "3.11.2")
		}, "env:PYS2I_LOCK_FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other, err := tc.change()
			if err != nil {
				t.Fatal(err)
			}
			if d := fp.Diff(other); len(d) != 1 || d[0] != tc.diff {
				t.Errorf("diff %v, want [%s]", d, tc.diff)
			}
		})
	}
}

// A URL's credentials do not change what is installed, and a hash that
// depends on them would let anyone with the image test password guesses
// offline: values that differ only in them fingerprint the same, as the
// value without them.
func TestComputeIgnoresCredentials(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name        string
		vals        []string // values of name that differ only in credentials
		noCredsWant string   // the same without any
	}{
		{"PIP_INDEX_URL", []string{"http://user:SECRETPW@127.0.0.1:8080/simple", "http://user:other@127.0.0.1:8080/simple", "http://token@127.0.0.1:8080/simple"},
			"http://127.0.0.1:8080/simple"},
		{"PIP_EXTRA_INDEX_URL", []string{"https://a:pw1@one/simple https://b:pw2@two/simple", "https://a:x@one/simple https://two/simple"},
			"https://one/simple https://two/simple"},
		{"PIP_FIND_LINKS", []string{"https://u:p@links/wheels/", "https://u:q%40r@links/wheels/"}, "https://links/wheels/"},
		{"PIPENV_PYPI_MIRROR", []string{"https://u:p@mirror/simple", "https://u:p@ss@mirror/simple"}, "https://mirror/simple"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := Compute(dir, []string{tt.name + "=" + tt.noCredsWant}, "3.11.2")
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tt.vals {
				got, err := Compute(dir, []string{tt.name + "=" + v}, "3.11.2")
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equal(want) {
					t.Errorf("%s=%s: fingerprint differs from the one without credentials: %v", tt.name, v, got.Diff(want))
				}
				if got["env:"+tt.name] == hash([]byte(tt.name+"="+v)) {
					t.Errorf("%s=%s: the raw value's hash is stored", tt.name, v)
				}
			}
		})
	}
}

func fingerprintJSON(fp Fingerprint) (string, error) {
	p := filepath.Join(os.TempDir(), "fp-test.json")
	defer os.Remove(p)
	if err := fp.Write(p); err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	return string(b), err
}

// Save, extract as s2i does, Find, RestoreDeps and RestoreCache round trip;
// $HOME's source is never saved; a truncated tar is refused.
func TestSaveRestore(t *testing.T) {
	root := t.TempDir()
	p := Paths{AppRoot: filepath.Join(root, "app"), Home: filepath.Join(root, "app", "src"), StateDir: filepath.Join(root, "state")}
	write(t, filepath.Join(p.AppRoot, "bin", "gunicorn"), "#!x")
	write(t, filepath.Join(p.AppRoot, "lib", "python3.11", "site-packages", "flask", "__init__.py"), "flask")
	write(t, filepath.Join(p.Home, "app.py"), "source")
	write(t, filepath.Join(p.Home, ".local", "venvs", "pipenv", "bin", "pipenv"), "tool")
	os.MkdirAll(filepath.Join(p.Home, ".local", "bin"), 0o755)
	os.Symlink("../venvs/pipenv/bin/pipenv", filepath.Join(p.Home, ".local", "bin", "pipenv"))
	write(t, filepath.Join(p.StateDir, CacheDir, "wheels", "x.whl"), "wheel")

	var empty bytes.Buffer
	if err := Save(&empty, p); err != nil {
		t.Fatal(err)
	}
	if n := countEntries(t, empty.Bytes()); n != 0 {
		t.Errorf("no fingerprint: %d entries, want an empty tar", n)
	}
	fp := Fingerprint{"schema": schema, "python": "x"}
	if err := fp.Write(filepath.Join(p.StateDir, FingerprintFile)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Save(&buf, p); err != nil {
		t.Fatal(err)
	}
	names := entryNames(t, buf.Bytes())
	if strings.Contains(names, "app.py") || !strings.Contains(names, Root+"/venv/bin/gunicorn") || !strings.HasSuffix(names, Root+"/"+CompleteFile+"\n") {
		t.Errorf("tar entries:\n%s", names)
	}

	// A fresh image: clean venv, the new source.
	root2 := t.TempDir()
	p2 := Paths{AppRoot: filepath.Join(root2, "app"), Home: filepath.Join(root2, "app", "src"), StateDir: filepath.Join(root2, "state")}
	write(t, filepath.Join(p2.AppRoot, "bin", "python"), "clean")
	write(t, filepath.Join(p2.Home, "app.py"), "new source")
	art := filepath.Join(root2, "artifacts")
	extract(t, buf.Bytes(), art)
	found, err := Find(art)
	if err != nil || found == nil || !found.Fingerprint.Equal(fp) {
		t.Fatalf("Find: %v %v", found, err)
	}
	if err := found.RestoreDeps(p2); err != nil {
		t.Fatal(err)
	}
	if err := found.RestoreCache(p2); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(p2.AppRoot, "bin", "gunicorn"):                                            "#!x",
		filepath.Join(p2.Home, "app.py"):                                                        "new source",
		filepath.Join(p2.Home, ".local", "bin", "pipenv"):                                       "tool",
		filepath.Join(p2.StateDir, CacheDir, "wheels", "x.whl"):                                 "wheel",
		filepath.Join(p2.AppRoot, "lib", "python3.11", "site-packages", "flask", "__init__.py"): "flask",
	} {
		if b, err := os.ReadFile(path); err != nil || string(b) != want {
			t.Errorf("%s: %q %v", path, b, err)
		}
	}
	if _, err := os.Stat(filepath.Join(p2.AppRoot, "bin", "python")); err == nil {
		t.Error("the image's bin/ was merged, not replaced")
	}

	// Truncated: no COMPLETE marker.
	art3 := filepath.Join(t.TempDir(), "artifacts")
	extract(t, buf.Bytes()[:len(buf.Bytes())/2], art3)
	if f, err := Find(art3); err == nil || f != nil {
		t.Errorf("truncated state accepted: %v %v", f, err)
	}
	if f, err := Find(t.TempDir()); f != nil || err != nil {
		t.Errorf("no state: %v %v", f, err)
	}
}

func countEntries(t *testing.T, b []byte) int {
	return strings.Count(entryNames(t, b), "\n")
}

func entryNames(t *testing.T, b []byte) string {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var s strings.Builder
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s.WriteString(h.Name + "\n")
	}
	return s.String()
}

// extract unpacks what it can (a truncated stream stops early, as tar does).
func extract(t *testing.T, b []byte, dir string) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err != nil {
			return
		}
		p := filepath.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
		case tar.TypeSymlink:
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.Symlink(h.Linkname, p)
		default:
			os.MkdirAll(filepath.Dir(p), 0o755)
			data, err := io.ReadAll(tr)
			if err != nil {
				return
			}
			os.WriteFile(p, data, os.FileMode(h.Mode))
		}
	}
}
