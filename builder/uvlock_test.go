package builder

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// cpython is a PythonEnv of CPython on Linux x86_64 (glibc 2.36) for
// version ("3.11.2"), with the tags pip accepts there (a subset).
func cpython(version string) PythonEnv {
	mm := strings.Join(strings.Split(version, ".")[:2], ".")
	cp := "cp" + strings.ReplaceAll(mm, ".", "")
	tags := map[string]bool{"py3-none-any": true, "py2.py3-none-any": false}
	for _, plat := range []string{"manylinux_2_36_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64", "linux_x86_64"} {
		for _, abi := range []string{cp, "abi3", "none"} {
			tags[cp+"-"+abi+"-"+plat] = true
		}
	}
	return PythonEnv{Vars: map[string]string{
		"python_version": mm, "python_full_version": version, "os_name": "posix", "sys_platform": "linux",
		"platform_machine": "x86_64", "platform_python_implementation": "CPython", "platform_release": "6.1.0",
		"platform_system": "Linux", "platform_version": "#1 SMP", "implementation_name": "cpython", "implementation_version": version,
	}, Tags: tags}
}

func reqNames(l *Locked) []string {
	var out []string
	for _, r := range l.Reqs {
		out = append(out, NormalizeName(r.Name))
	}
	return out
}

func reqLine(l *Locked, name string) string {
	for _, r := range l.Reqs {
		if NormalizeName(r.Name) == name {
			return r.Line
		}
	}
	return ""
}

// testdata/uvlock/app: written by uv 0.13.9 (`uv lock` against the world's
// index) for a workspace: the root app (editable), a member, a git source,
// markers (win32 only, Python < 3.12), an extra and two groups, and
// gunicorn built from its sdist (tool.uv no-binary-package).
func TestConvertUvLock(t *testing.T) {
	lock := readTestdata(t, "uvlock/app/uv.lock")
	pyproject := readTestdata(t, "uvlock/app/pyproject.toml")
	base := []string{"app", "click", "decorator", "flask", "gitdep", "gunicorn", "itsdangerous", "jinja2", "markupsafe", "member", "packaging", "six", "werkzeug"}
	socks := []string{"certifi", "charset-normalizer", "idna", "pysocks", "requests", "urllib3"}
	for _, tc := range []struct {
		name   string
		env    PythonEnv
		choice LockChoice
		want   []string
	}{
		{"main", cpython("3.11.2"), LockChoice{}, base},
		{"python 3.13: no decorator", cpython("3.13.1"), LockChoice{}, without(base, "decorator")},
		{"extra socks", cpython("3.11.2"), LockChoice{Extras: []string{"Socks"}}, sorted(append(append([]string{}, base...), socks...))},
		{"group dev", cpython("3.11.2"), LockChoice{Groups: []string{"dev"}}, sorted(append(append([]string{}, base...), "pello"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ConvertUvLock(lock, pyprojects("uvlock/app", pyproject), "/src", tc.env, tc.choice)
			if err != nil {
				t.Fatal(err)
			}
			if got := reqNames(l); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("installs %v\nwant      %v", got, tc.want)
			}
			if !reflect.DeepEqual(l.Indexes, []string{"http://127.0.0.1:37629/simple"}) {
				t.Errorf("indexes %v", l.Indexes)
			}
		})
	}
	// Another spelling of the same requirements is no change.
	respelled := strings.NewReplacer(`"flask==2.2.2"`, `"Flask == 2.2.2"`, `"requests[socks]"`, `"Requests [SOCKS]"`, `dev = ["pello"]`, `dev = ["Pello"]`).Replace(string(pyproject))
	if _, err := ConvertUvLock(lock, pyprojects("uvlock/app", []byte(respelled)), "/src", cpython("3.11.2"), LockChoice{}); err != nil {
		t.Errorf("respelled pyproject.toml: %v", err)
	}
	l, err := ConvertUvLock(lock, pyprojects("uvlock/app", pyproject), "/src", cpython("3.13.1"), LockChoice{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"app":        "-e /src",
		"member":     "-e /src/packages/member",
		"gitdep":     "git+file:///tmp/uvl/gitdep@9c8ded1184a96b9e94a3644ced5a7e93d1023057#egg=gitdep",
		"gunicorn":   "gunicorn==23.0.0 --hash=sha256:f014447a0101dc57e294f6c18ca6b40227a4c90e9bdb586042628030cba004ec",
		"markupsafe": "markupsafe==3.0.4 --hash=sha256:434139499bb20b502ed3baa1f169e618f924a97e7a777fea1a49446d80106cf6",
	} {
		if got := reqLine(l, name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	for _, r := range l.Reqs {
		if r.Hashed != strings.Contains(r.Line, "--hash=") || strings.Contains(r.Line, ";") {
			t.Errorf("%+v", r)
		}
	}
}

// pyprojects reads the pyproject.toml files of testdata/dir, with root
// (when not nil) as the root's.
func pyprojects(dir string, root []byte) func(rel string) []byte {
	return func(rel string) []byte {
		if rel == "." && root != nil {
			return root
		}
		b, err := os.ReadFile(filepath.Join("testdata", dir, rel, "pyproject.toml"))
		if err != nil {
			return nil
		}
		return b
	}
}

func without(list []string, drop string) []string {
	var out []string
	for _, s := range list {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// Every refusal names uv.lock and the problem.
func TestConvertUvLockErrors(t *testing.T) {
	lock := string(readTestdata(t, "uvlock/app/uv.lock"))
	pyproject := string(readTestdata(t, "uvlock/app/pyproject.toml"))
	noWheels := cpython("3.11.2")
	noWheels.Tags = map[string]bool{"py3-none-any": true}
	for _, tc := range []struct {
		name            string
		lock, pyproject string
		env             PythonEnv
		choice          LockChoice
		want            string
	}{
		{"corrupt", lock[:300], pyproject, cpython("3.11.2"), LockChoice{}, "uv.lock is corrupt"},
		{"version", strings.Replace(lock, "version = 1\n", "version = 2\n", 1), pyproject, cpython("3.11.2"), LockChoice{}, "uv.lock has version 2; this pys2i reads version 1"},
		{"requires-python", lock, pyproject, cpython("3.10.12"), LockChoice{}, "uv.lock: the project requires Python >=3.11, but the venv runs Python 3.10.12"},
		{"stale dependency", lock, strings.Replace(pyproject, `"flask==2.2.2"`, `"flask==2.3.0"`, 1), cpython("3.11.2"), LockChoice{},
			"uv.lock needs to be updated, but --locked was given: the requirements of app in pyproject.toml differ from the lock (not in the lock: flask==2.3.0; only in the lock: flask==2.2.2)"},
		{"added dependency", lock, strings.Replace(pyproject, `"gunicorn==23.0.0",`, `"gunicorn==23.0.0", "numpy",`, 1), cpython("3.11.2"), LockChoice{}, "(not in the lock: numpy)"},
		{"stale group", lock, strings.Replace(pyproject, `dev = ["pello"]`, `dev = ["pello", "six"]`, 1), cpython("3.11.2"), LockChoice{},
			"dependency group dev in pyproject.toml differs from the lock (not in the lock: six)"},
		{"removed group", lock, strings.Replace(pyproject, `pinned = ["six==1.16.0"]`, ``, 1), cpython("3.11.2"), LockChoice{}, "dependency group pinned is in the lock but not in pyproject.toml"},
		{"no pyproject", lock, "", cpython("3.11.2"), LockChoice{}, "no pyproject.toml beside it"},
		{"no hash for the platform", lock, pyproject, noWheels, LockChoice{}, "uv.lock: markupsafe 3.0.4: no hash for this platform: no wheel for this interpreter (python 3.11.2, linux x86_64) and no sdist in the lock"},
		{"bad marker", strings.Replace(lock, `marker = "python_full_version < '3.12'"`, `marker = "python_full_version << '3.12'"`, 1), pyproject, cpython("3.11.2"), LockChoice{},
			`uv.lock: app's dependency on decorator: invalid marker "python_full_version << '3.12'"`},
		{"unknown extra", lock, pyproject, cpython("3.11.2"), LockChoice{Extras: []string{"gui"}}, `PYS2I_LOCK_EXTRAS names "gui", which the project does not provide`},
		{"unknown group", lock, pyproject, cpython("3.11.2"), LockChoice{Groups: []string{"docs"}}, `PYS2I_LOCK_GROUPS names "docs", which is not a dependency group`},
		{"missing package", strings.Replace(lock, "name = \"pello\"\n", "name = \"pellox\"\n", 1), pyproject, cpython("3.11.2"), LockChoice{Groups: []string{"dev"}}, "a dependency on pello  is not in the lock"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read := pyprojects("uvlock/app", []byte(tc.pyproject))
			if tc.pyproject == "" {
				read = func(string) []byte { return nil }
			}
			_, err := ConvertUvLock([]byte(tc.lock), read, "/src", tc.env, tc.choice)
			if _, ok := err.(*LockError); !ok || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %q", err, tc.want)
			}
		})
	}
}

// A workspace member's pyproject.toml is checked too.
func TestConvertUvLockStaleMember(t *testing.T) {
	member := strings.Replace(string(readTestdata(t, "uvlock/app/packages/member/pyproject.toml")), `dependencies = ["jinja2"]`, `dependencies = ["jinja2<4"]`, 1)
	fixture := pyprojects("uvlock/app", nil)
	read := func(rel string) []byte {
		if rel == "packages/member" {
			return []byte(member)
		}
		return fixture(rel)
	}
	_, err := ConvertUvLock(readTestdata(t, "uvlock/app/uv.lock"), read, "/src", cpython("3.11.2"), LockChoice{})
	if want := "the requirements of member in packages/member/pyproject.toml differ from the lock (not in the lock: jinja2<4; only in the lock: jinja2)"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// testdata/uvlock/vproj: a project without a build system (uv locks it as
// virtual = "."): its dependencies only. testdata/uvlock/vroot: a workspace
// whose root is no project: every member (as uv sync does), and the root's
// own groups ([manifest.dependency-groups]) when chosen.
func TestConvertUvLockVirtual(t *testing.T) {
	for _, tc := range []struct {
		dir    string
		choice LockChoice
		want   []string
	}{
		{"vproj", LockChoice{}, []string{"six"}},
		{"vroot", LockChoice{}, []string{"a", "b", "six"}},
		{"vroot", LockChoice{Groups: []string{"dev"}}, []string{"a", "b", "pello", "six"}},
	} {
		l, err := ConvertUvLock(readTestdata(t, "uvlock/"+tc.dir+"/uv.lock"), pyprojects("uvlock/"+tc.dir, nil), "/src", cpython("3.11.2"), tc.choice)
		if err != nil {
			t.Fatalf("%s: %v", tc.dir, err)
		}
		if got := reqNames(l); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %+v: installs %v, want %v", tc.dir, tc.choice, got, tc.want)
		}
	}
	pp := strings.Replace(string(readTestdata(t, "uvlock/vroot/pyproject.toml")), `dev = ["pello"]`, `dev = ["pello", "six"]`, 1)
	_, err := ConvertUvLock(readTestdata(t, "uvlock/vroot/uv.lock"), pyprojects("uvlock/vroot", []byte(pp)), "/src", cpython("3.11.2"), LockChoice{})
	if err == nil || !strings.Contains(err.Error(), "dependency group dev of the workspace root in pyproject.toml differs from the lock (not in the lock: six)") {
		t.Errorf("stale root group: %v", err)
	}
}
