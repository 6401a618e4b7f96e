package buildpaths

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const extC = `#include <stdio.h>
int answer(void) { return 42; }
const char *where(void) { return __FILE__; }
`

// buildLikePip compiles extC into a shared object the way pip builds an
// sdist: in $tmp/pip-install-<random>/<name>_<uuid hex>, with debug info
// and a build ID, the source named relative to that directory. It returns
// the object's bytes.
func buildLikePip(t testing.TB, tmp, random, uuid string, ldflags ...string) []byte {
	t.Helper()
	dir := filepath.Join(tmp, "pip-install-"+random, "ext_"+uuid)
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "ext.c"), []byte(extC), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-g", "-O2", "-fPIC", "-shared", "-o", "ext.so", "src/ext.c"}, ldflags...)
	cmd := exec.Command("gcc", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "ext.so"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readelf(t *testing.T, b []byte, args ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.so")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("readelf", append(args, p)...).CombinedOutput()
	if err != nil {
		t.Fatalf("readelf %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Two compilations in two random directories (of one TMPDIR) differ (the
// directory and the build ID); normalized, neither holds a random part, each
// has the placeholder directory in its debug info and a build ID of its
// own, and they load. They are often, not always, the same bytes: the
// linker may order merged strings by their content, random parts included
// (which is why the compiler wrapper maps the directories at compile time;
// see TestCompilerFlagsGiveEqualObjects).
func TestNormalizeRealSharedObjects(t *testing.T) {
	tmp := t.TempDir()
	a := buildLikePip(t, tmp, "aqfyh8cn", "a4650d2592764248b0f0314a1b9035fe", "-Wl,--build-id=sha1")
	b := buildLikePip(t, tmp, "k2_9zz01", "0123456789abcdef0123456789abcdef", "-Wl,--build-id=sha1")
	if bytes.Equal(a, b) {
		t.Fatal("two builds in two directories gave the same bytes: the test proves nothing")
	}
	if !strings.Contains(string(a), "pip-install-aqfyh8cn") {
		t.Fatal("the compiler recorded no build directory: the test proves nothing")
	}
	idBefore := readelf(t, a, "-n")
	for _, x := range [][]byte{a, b} {
		if did, err := Normalize(x); !did || err != nil {
			t.Fatalf("Normalize = %v, %v", did, err)
		}
	}
	for _, random := range []string{"aqfyh8cn", "a4650d2592764248", "k2_9zz01", "0123456789abcdef"} {
		if bytes.Contains(a, []byte(random)) || bytes.Contains(b, []byte(random)) {
			t.Errorf("a random part is left: %s", random)
		}
	}
	info := readelf(t, a, "--debug-dump=info")
	if !strings.Contains(info, "pip-install-XXXXXXXX/ext_00000000000000000000000000000000") {
		t.Errorf("the comp dir is not the placeholder:\n%.2000s", info)
	}
	idAfter := readelf(t, a, "-n")
	if !strings.Contains(idAfter, "Build ID: ") || idAfter == idBefore {
		t.Errorf("build ID not rehashed:\nbefore %s\nafter %s", idBefore, idAfter)
	}
	// The ID is what RehashBuildID computes from the file: doing it again
	// changes nothing, and a second Normalize finds nothing to do.
	again := append([]byte{}, a...)
	if err := RehashBuildID(again); err != nil || !bytes.Equal(again, a) {
		t.Errorf("RehashBuildID is not stable: %v", err)
	}
	if did, err := Normalize(again); did || err != nil {
		t.Errorf("Normalize of a normalized file = %v, %v", did, err)
	}
	// It still loads and runs.
	so := filepath.Join(t.TempDir(), "ext.so")
	if err := os.WriteFile(so, a, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(debianPython, "-c", "import ctypes,sys; print(ctypes.CDLL(sys.argv[1]).answer())", so).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "42" {
		t.Errorf("load the normalized object: %v\n%s", err, out)
	}
}

// Without a build ID only the directory changes.
func TestNormalizeWithoutBuildID(t *testing.T) {
	a := buildLikePip(t, t.TempDir(), "aqfyh8cn", "a4650d2592764248b0f0314a1b9035fe", "-Wl,--build-id=none")
	if off, size, err := BuildID(a); err != nil || size != 0 {
		t.Fatalf("BuildID = %d, %d, %v; want none", off, size, err)
	}
	orig := append([]byte{}, a...)
	if did, err := Normalize(a); !did || err != nil {
		t.Fatalf("Normalize = %v, %v", did, err)
	}
	var diff int
	for i := range a {
		if a[i] != orig[i] {
			diff++
		}
	}
	if diff == 0 || diff > len(randomName)+len(randomHex) {
		t.Errorf("%d bytes changed; want the random parts only", diff)
	}
}
