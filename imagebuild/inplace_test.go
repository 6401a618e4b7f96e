package imagebuild

import (
	"reflect"
	"testing"
)

func TestLeaves(t *testing.T) {
	for _, tt := range []struct{ in, want []string }{
		{nil, nil},
		{[]string{"var/tmp", "var/tmp/x"}, []string{"var/tmp/x"}},
		{[]string{"etc", "etc/a", "etc/b", "etcetera"}, []string{"etc/a", "etc/b", "etcetera"}},
		{[]string{"run/new-empty-dir"}, []string{"run/new-empty-dir"}},
		{[]string{"var/lib", "var/lib/.wh.gone"}, []string{"var/lib/.wh.gone"}},
	} {
		if got := leaves(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("leaves(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDeletedName(t *testing.T) {
	for in, want := range map[string]string{
		"var/lib/.wh.gone": "var/lib/gone (deleted)",
		".wh.top":          "top (deleted)",
		"var/lib/kept":     "var/lib/kept",
	} {
		if got := deletedName(in); got != want {
			t.Errorf("deletedName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		`/workspace/source`:     "/workspace/source",
		`/mnt/with\040space`:    "/mnt/with space",
		`/mnt/tab\011and\134bs`: "/mnt/tab\tand\\bs",
		`/odd\04`:               `/odd\04`,
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}
