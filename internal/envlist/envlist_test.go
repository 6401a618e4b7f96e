package envlist

import (
	"reflect"
	"testing"
)

func TestGetLookup(t *testing.T) {
	env := []string{"A=1", "PATH=/bin", "A=2", "E=", "N", "B=x=y"}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{{"A", "2", true}, {"PATH", "/bin", true}, {"E", "", true}, {"N", "", false}, {"B", "x=y", true}, {"Z", "", false}, {"A=1", "", false}} {
		if v, ok := Lookup(env, tc.name); v != tc.want || ok != tc.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.name, v, ok, tc.want, tc.ok)
		}
		if v := Get(env, tc.name); v != tc.want {
			t.Errorf("Get(%q) = %q, want %q", tc.name, v, tc.want)
		}
	}
}

func TestSetUnsetMerge(t *testing.T) {
	env := []string{"A=1", "PATH=/bin", "A=2"}
	if got, want := Set(env, "A", "3"), []string{"A=3", "PATH=/bin"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Set = %q, want %q", got, want)
	}
	if got, want := Set(env, "B", "1"), []string{"A=1", "PATH=/bin", "A=2", "B=1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Set = %q, want %q", got, want)
	}
	if env[0] != "A=1" || env[2] != "A=2" {
		t.Errorf("Set changed its input: %q", env)
	}
	if got, want := Unset([]string{"A=1", "A", "B=2", "A=3", "C=4"}, "A", "C"), []string{"A", "B=2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Unset = %q, want %q", got, want)
	}
	if got, want := Merge([]string{"A=1", "B=2"}, nil, []string{"C=3", "A=4"}, []string{"B=5"}), []string{"A=4", "B=5", "C=3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Merge = %q, want %q", got, want)
	}
}
