package builder

import (
	"testing"
	"testing/fstest"
)

func TestFindNativeLock(t *testing.T) {
	f := &fstest.MapFile{Data: []byte("x")}
	for _, tc := range []struct {
		name     string
		files    []string
		explicit string
		want     string
	}{
		{"none", []string{"requirements.txt"}, "", ""},
		{"uv.lock", []string{"uv.lock", "pylock.toml"}, "", "uv.lock"},
		{"pylock.toml", []string{"pylock.toml", "Pipfile.lock"}, "", "pylock.toml"},
		{"a named pylock is not guessed", []string{"pylock.prod.toml"}, "", ""},
		{"explicit", []string{"uv.lock", "pylock.prod.toml"}, "pylock.prod.toml", "pylock.prod.toml"},
		{"explicit, even missing (InstallNativeLock says so)", nil, "pylock.toml", "pylock.toml"},
	} {
		fsys := fstest.MapFS{}
		for _, n := range tc.files {
			fsys[n] = f
		}
		if got := FindNativeLock(fsys, tc.explicit); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	for name, want := range map[string]bool{
		"uv.lock": true, "pylock.toml": true, "pylock.prod.toml": true, "pylock.a.b.toml": false,
		"pylock..toml": false, "poetry.lock": false, "../uv.lock": false, "sub/pylock.toml": false,
	} {
		if ValidLockName(name) != want {
			t.Errorf("ValidLockName(%q) = %v", name, !want)
		}
	}
}
