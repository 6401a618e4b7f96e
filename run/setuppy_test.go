package run

import (
	"testing"
)

func TestStaticSetupName(t *testing.T) {
	tests := []struct {
		src    string
		want   string
		wantOK bool
	}{
		{`from setuptools import setup
setup(name="testapp", version="1.0", packages=["testapp"])`, "testapp", true},
		{`setup(
    name = 'my_app',
)`, "my_app", true},
		{`NAME = "x"
setup(name=NAME)`, "", false},
		{`name = "app"
setup(name=name)`, "app", true},
		{`setup(name="a", extras={"b": dict(name="b")})`, "", false},
		{`setup(package_name="x")`, "", false},
		{`setup()`, "", false},
		{`setup(name=f"{x}")`, "", false},
	}
	for _, tt := range tests {
		got, ok := staticSetupName([]byte(tt.src))
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("staticSetupName(%q) = %q, %v; want %q, %v", tt.src, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestFindSetupPy(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"top", map[string]string{"h/setup.py": ""}, "/h/setup.py"},
		{"depth 2", map[string]string{"h/pkg/setup.py": ""}, "/h/pkg/setup.py"},
		{"depth 3 is too deep", map[string]string{"h/a/b/setup.py": ""}, ""},
		{"none", map[string]string{"h/app.py": ""}, ""},
		{"a directory named setup.py is not a file", map[string]string{"h/setup.py/x": ""}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tt.files)
			if got := findSetupPy(root, "/h"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"20.1.0", true}, {"20.0.4", false}, {"19.9.0", false}, {"21.0", true}, {"23.0.0", true},
		{"20.1.0rc1", true}, {"20", false}, {"", false},
	}
	for _, tt := range tests {
		if got := atLeast201(parseVersion(tt.v)); got != tt.want {
			t.Errorf("atLeast201(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
