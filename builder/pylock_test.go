package builder

import (
	"reflect"
	"strings"
	"testing"
)

// testdata/uvlock/app/pylock.toml: `uv export --format pylock.toml --no-dev`
// (uv 0.13.9) of the uv.lock beside it.
func TestConvertPylock(t *testing.T) {
	lock := readTestdata(t, "uvlock/app/pylock.toml")
	base := []string{"app", "click", "decorator", "flask", "gitdep", "gunicorn", "itsdangerous", "jinja2", "markupsafe", "member", "packaging", "six", "werkzeug"}
	for _, tc := range []struct {
		name string
		env  PythonEnv
		want []string
	}{
		{"3.11", cpython("3.11.2"), base},
		{"3.13", cpython("3.13.1"), without(base, "decorator")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ConvertPylock("pylock.toml", lock, "/src", tc.env, LockChoice{})
			if err != nil {
				t.Fatal(err)
			}
			if got := reqNames(res.Locked); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("installs %v\nwant      %v", got, tc.want)
			}
			if !res.Project {
				t.Error("the project's directory is in the lock")
			}
		})
	}
	res, err := ConvertPylock("pylock.toml", lock, "/src", cpython("3.11.2"), LockChoice{})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"app":        "-e /src",
		"member":     "-e /src/packages/member",
		"gitdep":     "git+file:///tmp/uvl/gitdep@9c8ded1184a96b9e94a3644ced5a7e93d1023057#egg=gitdep",
		"gunicorn":   "gunicorn==23.0.0 --hash=sha256:ec400d38950de4dfd418cff8328b2c8faed0edb0d517d3394e457c317908ca4d --hash=sha256:f014447a0101dc57e294f6c18ca6b40227a4c90e9bdb586042628030cba004ec",
		"markupsafe": "markupsafe==3.0.4 --hash=sha256:6da83a088f8ef93b2d483a8232a4dbf4d69d3d8496b568a03c56becac43e1808",
	} {
		if got := reqLine(res.Locked, name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if !reflect.DeepEqual(res.Locked.Indexes, []string{"http://127.0.0.1:37629/simple"}) {
		t.Errorf("indexes %v", res.Locked.Indexes)
	}
}

// PEP 751's extras and dependency_groups markers, default-groups without
// dev, archives, packages without an index (the build's then) and without
// a version (their file's URL then).
func TestConvertPylockChoice(t *testing.T) {
	lock := `lock-version = "1.0"
requires-python = ">=3.9"
extras = ["socks"]
dependency-groups = ["dev", "docs", "prod"]
default-groups = ["dev", "prod"]
environments = ["sys_platform == 'linux'", "sys_platform == 'darwin'"]

[[packages]]
name = "pysocks"
version = "1.7.1"
marker = "'socks' in extras"
index = "https://example.org/simple"
wheels = [{ url = "https://example.org/PySocks-1.7.1-py3-none-any.whl", hashes = { sha256 = "aa" } }]

[[packages]]
name = "pello"
version = "1.0.4"
marker = "'dev' in dependency_groups"
wheels = [{ url = "https://example.org/Pello-1.0.4-py3-none-any.whl", hashes = { sha256 = "bb" } }]

[[packages]]
name = "gunicorn"
marker = "'prod' in dependency_groups"
archive = { path = "dist/gunicorn-23.0.0.tar.gz", hashes = { sha256 = "cc", blake2b = "x" } }

[[packages]]
name = "sphinx"
marker = "'docs' in dependency_groups"
sdist = { url = "https://example.org/sphinx-8.0.tar.gz", hashes = { sha512 = "dd" } }
`
	for _, tc := range []struct {
		name   string
		choice LockChoice
		want   []string
	}{
		{"defaults without dev", LockChoice{}, []string{"gunicorn @ file:///src/dist/gunicorn-23.0.0.tar.gz --hash=sha256:cc"}},
		{"extras and groups", LockChoice{Extras: []string{"socks"}, Groups: []string{"dev", "docs"}}, []string{
			"pello==1.0.4 --hash=sha256:bb",
			"pysocks==1.7.1 --hash=sha256:aa",
			"sphinx @ https://example.org/sphinx-8.0.tar.gz --hash=sha512:dd",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ConvertPylock("pylock.toml", []byte(lock), "/src", cpython("3.11.2"), tc.choice)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range res.Locked.Reqs {
				got = append(got, r.Line)
			}
			if !reflect.DeepEqual(got, tc.want) || res.Project {
				t.Errorf("got %q (project %v)\nwant %q", got, res.Project, tc.want)
			}
		})
	}
	mac := cpython("3.11.2")
	mac.Vars = map[string]string{}
	for k, v := range cpython("3.11.2").Vars {
		mac.Vars[k] = v
	}
	mac.Vars["sys_platform"] = "win32"
	if _, err := ConvertPylock("pylock.toml", []byte(lock), "/src", mac, LockChoice{}); err == nil || !strings.Contains(err.Error(), "pylock.toml does not support this environment") {
		t.Errorf("environments: %v", err)
	}
}

func TestConvertPylockErrors(t *testing.T) {
	lock := string(readTestdata(t, "uvlock/app/pylock.toml"))
	noWheels := cpython("3.11.2")
	noWheels.Tags = map[string]bool{"py3-none-any": true}
	for _, tc := range []struct {
		name   string
		lock   string
		env    PythonEnv
		choice LockChoice
		want   string
	}{
		{"corrupt", lock[:250], cpython("3.11.2"), LockChoice{}, "pylock.toml is corrupt"},
		{"version", strings.Replace(lock, `lock-version = "1.0"`, `lock-version = "2.0"`, 1), cpython("3.11.2"), LockChoice{}, `pylock.toml has lock-version "2.0"; this pys2i reads lock-version 1.x`},
		{"requires-python", lock, cpython("3.10.4"), LockChoice{}, "pylock.toml: the lock requires Python >=3.11, but the venv runs Python 3.10.4"},
		{"no hash for the platform", lock, noWheels, LockChoice{}, "pylock.toml: markupsafe 3.0.4: no hash for this platform"},
		{"bad marker", strings.Replace(lock, `marker = "sys_platform == 'win32'"`, `marker = "sys_platform = 'win32'"`, 1), cpython("3.11.2"), LockChoice{}, `pylock.toml: colorama 0.4.6: invalid marker "sys_platform = 'win32'"`},
		{"unknown extra", lock, cpython("3.11.2"), LockChoice{Extras: []string{"socks"}}, `PYS2I_LOCK_EXTRAS names "socks", which the lock does not provide`},
		{"unknown group", lock, cpython("3.11.2"), LockChoice{Groups: []string{"dev"}}, `PYS2I_LOCK_GROUPS names "dev", which is not among the lock's dependency groups`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConvertPylock("pylock.toml", []byte(tc.lock), "/src", tc.env, tc.choice)
			if _, ok := err.(*LockError); !ok || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %q", err, tc.want)
			}
		})
	}
}
