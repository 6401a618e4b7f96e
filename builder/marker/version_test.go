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
