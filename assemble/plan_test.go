package assemble

import (
	"slices"
	"testing"
	"testing/fstest"

	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{"ENABLE_PIPENV": "false", "DISABLE_COLLECTSTATIC": "0", "HOME": "/h", "PIN_PIPENV_VERSION": "2022.12.19"}
	c := ConfigFromEnv(func(k string) string { return env[k] })
	if !c.EnablePipenv || !c.DisableCollectstatic || c.EnableMicropipenv || c.Home != "/h" || c.AppRoot != contract.DefaultAppRoot || c.PinPipenvVersion != "2022.12.19" {
		t.Errorf("%+v", c)
	}
	c = ConfigFromEnv(func(string) string { return "" })
	if c.Home != "/opt/app-root/src" || c.Source != "/tmp/src" {
		t.Errorf("defaults %+v", c)
	}
}

func TestDecide(t *testing.T) {
	file := &fstest.MapFile{Data: []byte("x")}
	dir := &fstest.MapFile{Mode: 0o755 | 1<<31}
	for _, tc := range []struct {
		name  string
		cfg   Config
		files []string
		want  Plan
	}{
		{"nothing", Config{}, nil, Plan{}},
		{"requirements", Config{}, []string{"requirements.txt"}, Plan{Deps: DepsRequirements}},
		{"Pipfile without ENABLE_PIPENV is ignored", Config{}, []string{"Pipfile", "Pipfile.lock"}, Plan{}},
		{"pipenv deploy", Config{EnablePipenv: true}, []string{"Pipfile", "requirements.txt"}, Plan{Deps: DepsPipenv, PipenvInput: PipenvDeploy}},
		{"pipenv requirements", Config{EnablePipenv: true, PinPipenvVersion: "1.0"}, []string{"requirements.txt"}, Plan{Deps: DepsPipenv, PipenvInput: PipenvRequirements, PipenvPin: "==1.0"}},
		{"pipenv nothing", Config{EnablePipenv: true}, nil, Plan{Deps: DepsPipenv}},
		{"micropipenv", Config{EnableMicropipenv: true}, []string{"requirements.txt"}, Plan{Deps: DepsMicropipenv}},
		{"conflict", Config{EnablePipenv: true, EnableMicropipenv: true}, nil, Plan{Conflict: true, Deps: DepsPipenv}},
		{"setup.py", Config{}, []string{"setup.py"}, Plan{SetupPy: true}},
		{"setup.cfg", Config{}, []string{"setup.cfg"}, Plan{SetupPy: true}},
		{"both installs", Config{}, []string{"setup.cfg", "pyproject.toml"}, Plan{SetupPy: true, Pyproject: true}},
		{"setup disabled", Config{DisableSetupPy: true}, []string{"setup.py", "pyproject.toml"}, Plan{Pyproject: true}},
		{"pyproject disabled", Config{DisablePyproject: true}, []string{"setup.py", "pyproject.toml"}, Plan{SetupPy: true}},
		{"pip.ini and upgrade", Config{PipIndexURL: "http://x", UpgradePip: true}, nil, Plan{PipIni: true, PipIniURL: "http://x", UpgradePip: true}},
		{"pip.ini without credentials", Config{PipIndexURL: "http://u:pw@x:8080/simple"}, nil, Plan{PipIni: true, PipIniURL: "http://x:8080/simple", PipIniStripped: true}},
		{"a directory named requirements.txt", Config{}, []string{"requirements.txt/"}, Plan{}},
		{"SOURCE_DATE_EPOCH", Config{SourceDateEpoch: "315532800"}, []string{"requirements.txt"}, Plan{Deps: DepsRequirements, NormalizeBuildPaths: true}},
		// Native locks (NOTES-uvlock.md): uv.lock, then pylock.toml, win
		// over requirements.txt and installs the project itself.
		{"uv.lock", Config{}, []string{"uv.lock", "pyproject.toml", "requirements.txt"}, Plan{Deps: DepsNativeLock, NativeLock: "uv.lock"}},
		{"uv.lock over pylock.toml", Config{}, []string{"uv.lock", "pylock.toml", "pyproject.toml"}, Plan{Deps: DepsNativeLock, NativeLock: "uv.lock"}},
		{"pylock.toml: the app step stays", Config{}, []string{"pylock.toml", "pyproject.toml", "requirements.txt"}, Plan{Deps: DepsNativeLock, NativeLock: "pylock.toml", Pyproject: true}},
		{"a named pylock only when asked", Config{}, []string{"pylock.prod.toml", "requirements.txt"}, Plan{Deps: DepsRequirements}},
		{"PYS2I_LOCK_FILE", Config{LockFile: "pylock.prod.toml"}, []string{"pylock.prod.toml", "uv.lock"}, Plan{Deps: DepsNativeLock, NativeLock: "pylock.prod.toml"}},
		{"uv.lock and Pipfile.lock without flags", Config{}, []string{"uv.lock", "Pipfile", "Pipfile.lock"}, Plan{Deps: DepsNativeLock, NativeLock: "uv.lock"}},
		{"ENABLE_MICROPIPENV: Pipfile.lock over uv.lock", Config{EnableMicropipenv: true}, []string{"uv.lock", "Pipfile", "Pipfile.lock", "pyproject.toml"}, Plan{Deps: DepsMicropipenv, Pyproject: true}},
		{"ENABLE_MICROPIPENV: requirements.txt over uv.lock", Config{EnableMicropipenv: true}, []string{"uv.lock", "requirements.txt"}, Plan{Deps: DepsMicropipenv}},
		{"ENABLE_MICROPIPENV: uv.lock when nothing else", Config{EnableMicropipenv: true}, []string{"uv.lock", "pyproject.toml"}, Plan{Deps: DepsNativeLock, NativeLock: "uv.lock"}},
		{"ENABLE_MICROPIPENV with PYS2I_LOCK_FILE", Config{EnableMicropipenv: true, LockFile: "uv.lock"}, []string{"uv.lock", "Pipfile.lock"}, Plan{Deps: DepsNativeLock, NativeLock: "uv.lock"}},
		{"ENABLE_PIPENV ignores uv.lock", Config{EnablePipenv: true}, []string{"uv.lock", "Pipfile"}, Plan{Deps: DepsPipenv, PipenvInput: PipenvDeploy}},
		{"PYS2I_DISABLE_NATIVE_LOCKS", Config{NoNativeLocks: true, LockFile: "uv.lock"}, []string{"uv.lock", "requirements.txt", "pyproject.toml"}, Plan{Deps: DepsRequirements, Pyproject: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				if f[len(f)-1] == '/' {
					fsys[f[:len(f)-1]] = dir
				} else {
					fsys[f] = file
				}
			}
			if got := Decide(tc.cfg, fsys); got != tc.want {
				t.Errorf("Decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestShouldCollectstatic(t *testing.T) {
	for _, tc := range []struct {
		disable, django, want bool
	}{{false, true, true}, {true, true, false}, {false, false, false}, {true, false, false}} {
		if got := ShouldCollectstatic(Config{DisableCollectstatic: tc.disable}, tc.django); got != tc.want {
			t.Errorf("%+v: %v", tc, got)
		}
	}
}

func TestActivatedEnv(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{[]string{"PATH=/usr/bin", "A=1"}, []string{"A=1", "VIRTUAL_ENV=/opt/app-root", "PATH=/opt/app-root/bin:/usr/bin"}},
		{[]string{"PATH=/opt/app-root/bin:/usr/bin", "PYTHONHOME=/x", "VIRTUAL_ENV=/old"}, []string{"VIRTUAL_ENV=/opt/app-root", "PATH=/opt/app-root/bin:/usr/bin"}},
		{nil, []string{"VIRTUAL_ENV=/opt/app-root", "PATH=/opt/app-root/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
	} {
		if got := ActivatedEnv(tc.in, "/opt/app-root"); !slices.Equal(got, tc.want) {
			t.Errorf("ActivatedEnv(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPythonPathFor(t *testing.T) {
	if got := PythonPathFor("/h", ""); got != "/h" {
		t.Error(got)
	}
	if got := PythonPathFor("/h", "/a:/b"); got != "/h:/a:/b" {
		t.Error(got)
	}
}

func TestChildEnv(t *testing.T) {
	in := []string{"PATH=/usr/bin", "PIP_NO_CACHE_DIR=off", "PIP_INDEX_URL=http://x"}
	c := Config{AppRoot: "/opt/app-root", StateDir: "/tmp/pys2i"}
	want := []string{"PIP_INDEX_URL=http://x", "VIRTUAL_ENV=/opt/app-root", "PATH=/opt/app-root/bin:/usr/bin",
		"PIP_CACHE_DIR=/tmp/pys2i/pip-cache", "PIPENV_CACHE_DIR=/tmp/pys2i/pipenv-cache"}
	if got := ChildEnv(c, in); !slices.Equal(got, want) {
		t.Errorf("ChildEnv = %q, want %q", got, want)
	}
	c.NoCache = true
	want = []string{"PIP_NO_CACHE_DIR=off", "PIP_INDEX_URL=http://x", "VIRTUAL_ENV=/opt/app-root", "PATH=/opt/app-root/bin:/usr/bin"}
	if got := ChildEnv(c, in); !slices.Equal(got, want) {
		t.Errorf("NoCache: ChildEnv = %q, want %q", got, want)
	}
}

func TestWrapCompilers(t *testing.T) {
	w := []string{"/usr/libexec/s2i/s2i-scripts", "reproducible-cc"}
	tests := []struct {
		name    string
		env     []string
		wrapper []string
		cc, cxx string
		wantCC  string
		wantCXX string
	}{
		{"both", []string{"PATH=/bin"}, w, "x86_64-linux-gnu-gcc", "x86_64-linux-gnu-g++",
			"/usr/libexec/s2i/s2i-scripts reproducible-cc x86_64-linux-gnu-gcc", "/usr/libexec/s2i/s2i-scripts reproducible-cc x86_64-linux-gnu-g++"},
		{"a compiler with options", nil, w, "gcc -pthread", "", "/usr/libexec/s2i/s2i-scripts reproducible-cc gcc -pthread", ""},
		{"the build's CC wins", []string{"CC=clang"}, w, "gcc", "g++", "clang", "/usr/libexec/s2i/s2i-scripts reproducible-cc g++"},
		{"no compilers", nil, w, "", "", "", ""},
		{"a wrapper path with a space", nil, []string{"/opt/my dir/s2i-scripts", "reproducible-cc"}, "gcc", "g++", "", ""},
		{"an empty wrapper word", nil, []string{"", "reproducible-cc"}, "gcc", "g++", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := WrapCompilers(tt.env, tt.wrapper, tt.cc, tt.cxx)
			if got := envlist.Get(env, "CC"); got != tt.wantCC {
				t.Errorf("CC = %q, want %q", got, tt.wantCC)
			}
			if got := envlist.Get(env, "CXX"); got != tt.wantCXX {
				t.Errorf("CXX = %q, want %q", got, tt.wantCXX)
			}
		})
	}
}
