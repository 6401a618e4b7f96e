package builder

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/builder/marker"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The hashes pipenv and poetry wrote into real lock files are reproduced.
func TestLockHashes(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		hash func([]byte) (string, error)
		file string
		want string
	}{
		{"pipenv-flask", PipfileHash, "Pipfile", "e7a64c088f430c8ab94cd655404680c5bd3e6bb56cff86df490fa72ce88d7ddc"},
		{"pipenv-vcs-path", PipfileHash, "Pipfile", "c3ae951a1f24c9f658e4210ec11b4f5ab724c62980aa5d455326fad7772543d1"},
		{"pipenv-markers", PipfileHash, "Pipfile", "bfd6d0e6954bacc1f3a36df1dc99f8d8544d3d4dad2495b4b6213f69008887b2"},
		{"poetry-flask", PoetryContentHash, "pyproject.toml", "f3f24e09a0d346189036f1628b0913c85244a2df380a9b286755e79dd8fb2fdb"},
		{"poetry2-flask", PoetryContentHash, "pyproject.toml", "24796d9a91f3854674441b15e6be00029a4fe79585112ee19a94adb2e5fad41b"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			got, err := tc.hash(readTestdata(t, tc.dir+"/"+tc.file))
			if err != nil || got != tc.want {
				t.Errorf("hash = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// py311 is the marker environment of CPython 3.11.2 on Linux x86_64.
var py311 = cpython("3.11.2").MarkerEnv(nil, nil)

func noExpand(s string) string { return strings.ReplaceAll(s, "${PIP_INDEX_URL}", "http://idx/simple") }

func TestConvertPipfileLock(t *testing.T) {
	lock, pipfile := readTestdata(t, "pipenv-flask/Pipfile.lock"), readTestdata(t, "pipenv-flask/Pipfile")
	l, err := ConvertPipfileLock(lock, pipfile, py311, false, noExpand)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, r := range l.Reqs {
		lines[r.Name] = r.Line
		if !r.Hashed {
			t.Errorf("%s: not hashed", r.Name)
		}
	}
	for name, want := range map[string]string{
		"flask":    "flask==2.2.2 --hash=sha256:da1a583548d4e95b22a00dba3ec517734e49b5c918b1bbaa71c47427054c9b53",
		"requests": "requests[socks]==2.28.1",
		"six":      "six==1.16.0 --hash=sha256:",
		"certifi":  "certifi==2022.9.24 --hash=",
	} {
		if !strings.HasPrefix(lines[name], want) {
			t.Errorf("%s: %q, want prefix %q", name, lines[name], want)
		}
	}
	if _, ok := lines["packaging"]; ok {
		t.Error("develop section installed without dev")
	}
	if len(l.Reqs) != 12 || l.Indexes[0] != "http://idx/simple" || l.Trusted[0] != "idx" {
		t.Errorf("%d reqs, indexes %v, trusted %v", len(l.Reqs), l.Indexes, l.Trusted)
	}
	dev, err := ConvertPipfileLock(lock, pipfile, py311, true, noExpand)
	if err != nil || len(dev.Reqs) != 13 {
		t.Errorf("with dev: %v, %v", dev, err)
	}
	hashed, plain := l.PipArgs()
	if strings.Join(hashed, " ") != "install --require-hashes --no-deps --index-url http://idx/simple --trusted-host idx" ||
		strings.Join(plain, " ") != "install --no-deps --index-url http://idx/simple --trusted-host idx" {
		t.Errorf("pip args %q %q", hashed, plain)
	}
}

func TestConvertPipfileLockVCSAndPath(t *testing.T) {
	l, err := ConvertPipfileLock(readTestdata(t, "pipenv-vcs-path/Pipfile.lock"), readTestdata(t, "pipenv-vcs-path/Pipfile"), py311, false, noExpand)
	if err != nil {
		t.Fatal(err)
	}
	want := []Requirement{
		{Name: "gitlib", Line: "git+file:///tmp/asmlock/gitrepo@68b36b3623c2913107b4f55af198137e4664e72a#egg=gitlib"},
		{Name: "mylib", Line: "-e ./mylib", Editable: true},
		{Name: "six", Line: "six==1.16.0 --hash=sha256:2b88154501bb8b1a92511a8007ca98170e3095cb7bd68517cb96f79bab740500", Hashed: true},
	}
	if len(l.Reqs) != len(want) {
		t.Fatalf("reqs %+v", l.Reqs)
	}
	for i := range want {
		if l.Reqs[i] != want[i] {
			t.Errorf("req %d = %+v, want %+v", i, l.Reqs[i], want[i])
		}
	}
}

// pipenv locks a package whose markers do not hold where it locks as
// version "*" without hashes. Markers are evaluated in Go against the
// venv's interpreter: on Linux colorama (win32 only) is left out, on
// Windows it is passed on unpinned, as micropipenv does; the rest stays
// pinned and hashed, without markers.
func TestConvertPipfileLockMarkers(t *testing.T) {
	lock, pipfile := readTestdata(t, "pipenv-markers/Pipfile.lock"), readTestdata(t, "pipenv-markers/Pipfile")
	win := marker.Env{Vars: map[string]string{}}
	for k, v := range py311.Vars {
		win.Vars[k] = v
	}
	win.Vars["sys_platform"] = "win32"
	for _, tc := range []struct {
		name     string
		env      marker.Env
		colorama string
	}{{"linux", py311, ""}, {"win32", win, "colorama"}} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ConvertPipfileLock(lock, pipfile, tc.env, false, noExpand)
			if err != nil {
				t.Fatal(err)
			}
			colorama := ""
			for _, r := range l.Reqs {
				if r.Name == "colorama" {
					colorama = r.Line
				} else if !r.Hashed || !strings.HasPrefix(r.Line, r.Name+"==") || strings.Contains(r.Line, ";") {
					t.Errorf("%s: %q, want pinned and hashed, no markers", r.Name, r.Line)
				}
			}
			if colorama != tc.colorama {
				t.Errorf("colorama: %q, want %q", colorama, tc.colorama)
			}
		})
	}
	if _, err := ConvertPipfileLock([]byte(strings.Replace(string(lock),
		`"markers": "sys_platform == 'win32'",`, "", 1)), pipfile, py311, false, noExpand); err == nil ||
		!strings.Contains(err.Error(), "colorama has no version") {
		t.Errorf("an unpinned entry without markers: %v, want refused", err)
	}
	if _, err := ConvertPipfileLock([]byte(strings.Replace(string(lock),
		`"markers": "sys_platform == 'win32'",`, `"markers": "sys_platform === ",`, 1)), pipfile, py311, false, noExpand); err == nil ||
		!strings.Contains(err.Error(), `Pipfile.lock: entry colorama: invalid marker "sys_platform === "`) {
		t.Errorf("an unreadable marker: %v, want refused", err)
	}
}

// poetry-flask has categories (poetry 1.3), poetry2-flask groups (poetry 2,
// lock-version 2.1): either way the dev dependency (packaging) is left out
// unless dev is asked for.
func TestConvertPoetryLock(t *testing.T) {
	for _, dir := range []string{"poetry-flask", "poetry2-flask"} {
		t.Run(dir, func(t *testing.T) { testConvertPoetryLock(t, dir) })
	}
}

func testConvertPoetryLock(t *testing.T, dir string) {
	l, err := ConvertPoetryLock(readTestdata(t, dir+"/poetry.lock"), readTestdata(t, dir+"/pyproject.toml"), false)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, r := range l.Reqs {
		names = append(names, r.Name)
		if !r.Hashed || !strings.HasPrefix(r.Line, r.Name+"==") || !strings.Contains(r.Line, " --hash=sha256:") {
			t.Errorf("line %q", r.Line)
		}
	}
	got := strings.Join(names, " ")
	if strings.Contains(got, "packaging") || !strings.Contains(got, "flask") || !strings.Contains(got, "requests") {
		t.Errorf("packages: %s", got)
	}
	dev, err := ConvertPoetryLock(readTestdata(t, dir+"/poetry.lock"), readTestdata(t, dir+"/pyproject.toml"), true)
	if err != nil || len(dev.Reqs) != len(l.Reqs)+1 {
		t.Errorf("dev: %d vs %d, %v", len(dev.Reqs), len(l.Reqs), err)
	}
}

// Corrupt, stale and wrong-Python locks are refused with a LockError.
func TestLockRefused(t *testing.T) {
	lock, pipfile := readTestdata(t, "pipenv-flask/Pipfile.lock"), readTestdata(t, "pipenv-flask/Pipfile")
	plock, pyproject := readTestdata(t, "poetry-flask/poetry.lock"), readTestdata(t, "poetry-flask/pyproject.toml")
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"corrupt Pipfile.lock", func() error {
			_, err := ConvertPipfileLock(lock[:100], pipfile, py311, false, noExpand)
			return err
		}, "Pipfile.lock is corrupt"},
		{"stale Pipfile.lock", func() error {
			_, err := ConvertPipfileLock(lock, append(pipfile, []byte("\n[packages.extra]\nversion = \"*\"\n")...), py311, false, noExpand)
			return err
		}, "out of date"},
		{"wrong python", func() error {
			_, err := ConvertPipfileLock(lock, pipfile, cpython("3.12.1").MarkerEnv(nil, nil), false, noExpand)
			return err
		}, "requires Python 3.11, but the image runs Python 3.12"},
		{"no Pipfile", func() error {
			_, err := ConvertPipfileLock(lock, nil, py311, false, noExpand)
			return err
		}, "no Pipfile"},
		{"corrupt poetry.lock", func() error {
			_, err := ConvertPoetryLock([]byte("[[package]\nname="), pyproject, false)
			return err
		}, "poetry.lock is corrupt"},
		{"stale poetry.lock", func() error {
			_, err := ConvertPoetryLock(plock, []byte(strings.Replace(string(pyproject), `flask = "2.2.2"`, `flask = "2.2.3"`, 1)), false)
			return err
		}, "content-hash does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			var le *LockError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a LockError with %q", err, tc.want)
			}
		})
	}
}
