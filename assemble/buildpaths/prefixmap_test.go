package buildpaths

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPrefixMaps(t *testing.T) {
	const uuid = "a4650d2592764248b0f0314a1b9035fe"
	const zero = "00000000000000000000000000000000"
	tests := []struct {
		name string
		tmp  string
		dirs map[string][]string
		want []string
	}{
		{"pip's sdist build: the dir, then the requirement's dir inside it", "/tmp",
			map[string][]string{"pip-install-aqfyh8cn": {"mod-wsgi_" + uuid}},
			[]string{
				"-ffile-prefix-map=/tmp/pip-install-aqfyh8cn=/tmp/pip-install-XXXXXXXX",
				"-ffile-prefix-map=/tmp/pip-install-aqfyh8cn/mod-wsgi_" + uuid + "=/tmp/pip-install-XXXXXXXX/mod-wsgi_" + zero,
			}},
		{"build env and req-build, sorted; children without a uuid need no map of their own", "/var/tmp/",
			map[string][]string{"pip-req-build-k2_9zz01": nil, "pip-build-env-0a9b8c7d": {"overlay", "normal"}},
			[]string{
				"-ffile-prefix-map=/var/tmp/pip-build-env-0a9b8c7d=/var/tmp/pip-build-env-XXXXXXXX",
				"-ffile-prefix-map=/var/tmp/pip-req-build-k2_9zz01=/var/tmp/pip-req-build-XXXXXXXX",
			}},
		{"not pip's", "/tmp", map[string][]string{"pip-cache": {"x_" + uuid}, "ccABCDEF": nil}, nil},
		{"an = in tmp", "/tmp/a=b", map[string][]string{"pip-install-aqfyh8cn": nil}, nil},
		{"relative tmp", "tmp", map[string][]string{"pip-install-aqfyh8cn": nil}, nil},
		{"a name that climbs", "/tmp", map[string][]string{"pip-install-aqfyh8cn": {"../x_" + uuid}}, []string{
			"-ffile-prefix-map=/tmp/pip-install-aqfyh8cn=/tmp/pip-install-XXXXXXXX",
		}},
		{"nothing", "/tmp", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PrefixMaps(tt.tmp, tt.dirs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PrefixMaps = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// With the maps that CompilerFlags gives at compile time, gcc and ld write
// the same bytes in two random directories: no scrubbing needed, and no
// string left to order differently. Five pairs, as the linker's order of
// merged strings, which scrubbing cannot repair, depends on their content.
func TestCompilerFlagsGiveEqualObjects(t *testing.T) {
	for i := 0; i < 5; i++ {
		tmp := t.TempDir()
		var objs [][]byte
		for j, random := range []string{"aqfyh8cn", "k2_9zz01"} {
			uuid := strings.Repeat(string("0123456789abcdef"[i*3+j]), 32)
			dir := filepath.Join(tmp, "pip-install-"+random, "ext_"+uuid)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			flags := CompilerFlags(tmp)
			if len(flags) == 0 {
				t.Fatal("no maps for a pip build directory")
			}
			objs = append(objs, buildLikePip(t, tmp, random, uuid, append([]string{"-Wl,--build-id=sha1", "-Wl,-O1"}, flags...)...))
			if err := os.RemoveAll(filepath.Join(tmp, "pip-install-"+random)); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(objs[0], objs[1]) {
			t.Fatalf("pair %d: two builds with the maps differ", i)
		}
		if bytes.Contains(objs[0], []byte("aqfyh8cn")) || !bytes.Contains(objs[0], []byte("pip-install-XXXXXXXX/ext_")) {
			t.Fatalf("pair %d: the placeholder is not what the compiler recorded", i)
		}
		if did, err := Normalize(objs[0]); did || err != nil {
			t.Errorf("Normalize after the maps = %v, %v; want nothing to do", did, err)
		}
	}
}
