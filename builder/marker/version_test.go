package marker

import "testing"

func TestSatisfies(t *testing.T) {
	for _, tc := range []struct {
		version, set string
		want         bool
		err          bool
	}{
		{"3.11.2", ">=3.11", true, false},
		{"3.11.2", ">=3.12", false, false},
		{"3.11.2", ">=3.9, <4", true, false},
		{"3.11.2", ">=3.9,<3.11", false, false},
		{"3.11.2", "~=3.11.0", true, false},
		{"3.11.2", "==3.11.*", true, false},
		{"3.13.0", "!=3.13.*", false, false},
		{"3.11.2", "", true, false},
		{"3.11.2", ">=three", false, true},
		{"3.11.2", "3.11", false, true},
	} {
		got, err := Satisfies(tc.version, tc.set)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%s in %q: %v, %v", tc.version, tc.set, got, err)
		}
	}
}

func TestCanonicalSpecifier(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "",
		">= 2.0 , <3":        "<3,>=2.0",
		"==1.0-RC1":          "==1.0rc1",
		"~=2.2.Post1":        "~=2.2.post1",
		"== 3.11.*":          "==3.11.*",
		"===1.0-foo":         "===1.0-foo",
		">=v1!2.0-dev3":      ">=1!2.0.dev3",
		"==1.0+Ubuntu-1":     "==1.0+ubuntu.1",
		"!=1.0.0a":           "!=1.0.0a0",
		">=notaversion,<2.0": "<2.0,>=notaversion",
	} {
		if got := CanonicalSpecifier(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
