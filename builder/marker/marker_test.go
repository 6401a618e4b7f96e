package marker

import (
	"errors"
	"strings"
	"testing"
)

// linux311 is CPython 3.11.2 on Debian 12 x86_64, extra "socks".
var linux311 = Env{Vars: map[string]string{
	"python_version": "3.11", "python_full_version": "3.11.2", "os_name": "posix", "sys_platform": "linux",
	"platform_machine": "x86_64", "platform_python_implementation": "CPython", "platform_release": "6.1.0-28-amd64",
	"platform_system": "Linux", "platform_version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)",
	"implementation_name": "cpython", "implementation_version": "3.11.2", "extra": "socks",
}}

// The expected values are what packaging 26.4 (pip's library) answers for
// linux311.
func TestEvaluate(t *testing.T) {
	for _, tc := range []struct {
		marker string
		want   bool
	}{
		{`python_version < '3.12'`, true},
		{`python_version >= "3.11"`, true},
		{`python_version > '3.11'`, false},
		{`python_version == '3.11.*'`, true},
		{`python_version != '3.11.*'`, false},
		{`python_full_version >= '3.11.2'`, true},
		{`python_full_version < '3.11.2'`, false},
		{`python_full_version ~= '3.11.0'`, true},
		{`python_full_version ~= '3.10.0'`, false},
		{`python_version ~= '3.9'`, true},
		{`python_version ~= '3.12'`, false},
		{`python_full_version === '3.11.2'`, true},
		{`python_full_version === '3.11'`, false},
		{`python_full_version == '3.11.2+local'`, false},
		{`'3.12' > python_version`, true},
		{`sys_platform == 'linux'`, true},
		{`sys_platform == 'win32'`, false},
		{`sys_platform != 'win32'`, true},
		{`os_name == 'nt'`, false},
		{`'linux' in sys_platform`, true},
		{`'lin' in sys_platform`, true},
		{`'win' not in sys_platform`, true},
		{`platform_machine in 'x86_64 aarch64'`, true},
		{`platform_machine not in 'x86_64 aarch64'`, false},
		{`implementation_name == 'cpython'`, true},
		{`platform_python_implementation == 'CPython'`, true},
		{`platform_python_implementation == 'PyPy'`, false},
		{`platform_system == 'Linux' and platform_machine == 'x86_64'`, true},
		{`sys_platform == 'win32' or sys_platform == 'linux'`, true},
		{`sys_platform == 'win32' and python_version < '3.12' or sys_platform == 'linux'`, true},
		{`sys_platform == 'win32' and (python_version < '3.12' or sys_platform == 'linux')`, false},
		{`sys_platform == 'linux' or sys_platform == 'win32' and python_version > '3.13'`, true},
		{`(sys_platform == 'linux' or sys_platform == 'win32') and python_version > '3.13'`, false},
		{`((python_version >= '3.8'))`, true},
		{`platform_release >= '5'`, false},
		{`platform_release < '6.10'`, false},
		{`platform_version == 'x'`, false},
		{`extra == 'socks'`, true},
		{`extra == 'SOCKS'`, true},
		{`extra == 'other'`, false},
		{`python_full_version >= '3.11.2rc1'`, true},
		{`python_full_version > '3.11.1.post1'`, true},
		{`python_full_version < '3.11.3.dev0'`, true},
		{`implementation_version >= '3.11'`, true},
		{`os.name == 'posix'`, true},
		{`python_implementation == 'CPython'`, true},
		{`python_full_version ~= '3.11'`, true},
		{`python_full_version == '3.11'`, false},
		{`python_version == '3.11.0'`, true}, // zero padding
		{`python_version != '3.11'`, false},
		{`python_version <= '3.11'`, true},
		{`python_full_version < '3.11.2.post1'`, true},
		{`python_full_version > '3.11.2'`, false},
		{`python_full_version == '3.*'`, true},
		{`python_full_version == '3.1.*'`, false},
		{`platform_machine == "x86_64" and python_version < "3.9" or python_version >= "3.11"`, true},
		{`sys_platform < 'm'`, true}, // strings compared as strings
		{`'socks' == extra`, true},
		{`extra == 'Socks_'`, false},
	} {
		got, err := Evaluate(tc.marker, linux311)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v", tc.marker, got, err, tc.want)
		}
	}
}

// PEP 751's set variables.
func TestEvaluateSets(t *testing.T) {
	env := Env{Vars: linux311.Vars, Extras: []string{"Socks"}, Groups: []string{"dev"}}
	for _, tc := range []struct {
		marker string
		want   bool
	}{
		{`'socks' in extras`, true},
		{`'test' in extras`, false},
		{`'dev' in dependency_groups`, true},
		{`'docs' not in dependency_groups`, true},
		{`'dev' in dependency_groups and sys_platform == 'linux'`, true},
		{`'docs' in dependency_groups or 'socks' in extras`, true},
	} {
		got, err := Evaluate(tc.marker, env)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v", tc.marker, got, err, tc.want)
		}
	}
}

func TestEvaluateErrors(t *testing.T) {
	for _, tc := range []struct{ marker, want string }{
		{``, "empty marker"},
		{`python_version`, "operator expected"},
		{`python_version <`, "variable or string expected"},
		{`python_version < '3.12`, "unterminated string"},
		{`pyhton_version < '3.12'`, `unknown marker variable "pyhton_version"`},
		{`'a' == 'b'`, "needs a variable"},
		{`(python_version < '3.12'`, "')' expected"},
		{`python_version < '3.12')`, `unexpected ")"`},
		{`python_version < '3.12' and`, "expression expected"},
		{`python_version <> '3.12'`, "variable or string expected"},
		{`python_version is '3.12'`, "operator expected"},
		{`sys_platform ~= 'linux'`, "cannot compare"},
		{`'dev' == dependency_groups`, "can only be tested"},
		{`python_version < '3.12' & os_name == 'nt'`, "unexpected character"},
	} {
		_, err := Evaluate(tc.marker, linux311)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.marker, err, tc.want)
		}
	}
	// A variable the environment lacks.
	_, err := Evaluate("platform_machine == 'x86_64'", Env{Vars: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), "no value for platform_machine") {
		t.Errorf("missing variable: %v", err)
	}
	var me *Error
	if _, err := Parse("python_version >"); !errors.As(err, &me) || me.Pos != len("python_version >") {
		t.Errorf("Parse error %#v", err)
	}
}

func TestCompareVersions(t *testing.T) {
	// Each is less than the next (PEP 440's examples).
	order := []string{"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456",
		"1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5",
		"1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1", "1!0.1"}
	for i := 0; i+1 < len(order); i++ {
		a, err1 := ParseVersion(order[i])
		b, err2 := ParseVersion(order[i+1])
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if Compare(a, b) != -1 || Compare(b, a) != 1 {
			t.Errorf("%s < %s: Compare %d", order[i], order[i+1], Compare(a, b))
		}
	}
	for _, eq := range [][2]string{{"1.0", "1.0.0"}, {"1.0RC1", "1.0rc1"}, {"1.0-1", "1.0.post1"}, {"v1.0", "1.0"}, {"1.0alpha1", "1.0a1"}} {
		a, _ := ParseVersion(eq[0])
		b, _ := ParseVersion(eq[1])
		if Compare(a, b) != 0 {
			t.Errorf("%s != %s", eq[0], eq[1])
		}
	}
	if _, err := ParseVersion("6.1.0-28-amd64"); err == nil {
		t.Error("6.1.0-28-amd64 parsed as a version")
	}
}
