package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The test binary is s2i-scripts itself when asked: the wrapper execs the
// compiler, which would replace the test process.
func TestMain(m *testing.M) {
	if os.Getenv("S2I_SCRIPTS_TEST_AS_MAIN") == "1" {
		os.Exit(dispatch(os.Args))
	}
	os.Exit(m.Run())
}

func s2iScripts(t *testing.T, dir string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "S2I_SCRIPTS_TEST_AS_MAIN=1"), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// Through the wrapper, gcc compiles and links in two of pip's random
// directories to the same bytes, naming the placeholder directory.
func TestReproducibleCC(t *testing.T) {
	tmp := t.TempDir()
	var objs [][]byte
	for _, d := range []string{"pip-install-aqfyh8cn/ext_a4650d2592764248b0f0314a1b9035fe", "pip-install-k2_9zz01/ext_0123456789abcdef0123456789abcdef"} {
		dir := filepath.Join(tmp, d)
		if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
			t.Fatal(err)
		}
		src := "int answer(void) { return 42; }\nconst char *where(void) { return __FILE__; }\n"
		if err := os.WriteFile(filepath.Join(dir, "src", "ext.c"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		out, code := s2iScripts(t, dir, []string{"TMPDIR=" + tmp}, "reproducible-cc", "gcc", "-g", "-O2", "-fPIC", "-shared",
			"-Wl,--build-id=sha1", "-Wl,-O1", "-o", "ext.so", "src/ext.c")
		if code != 0 {
			t.Fatalf("reproducible-cc gcc: exit %d\n%s", code, out)
		}
		b, err := os.ReadFile(filepath.Join(dir, "ext.so"))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, b)
	}
	if !bytes.Equal(objs[0], objs[1]) {
		t.Error("two compilations through the wrapper differ")
	}
	if !bytes.Contains(objs[0], []byte(tmp+"/pip-install-XXXXXXXX/ext_00000000000000000000000000000000")) || bytes.Contains(objs[0], []byte("aqfyh8cn")) {
		t.Error("the object does not name the placeholder directory, or names the random one")
	}
}

func TestReproducibleCCBadInput(t *testing.T) {
	out, code := s2iScripts(t, "", nil, "reproducible-cc", "no-such-compiler-xyz", "-c", "x.c")
	if code != 127 || !strings.Contains(out, "reproducible-cc: no-such-compiler-xyz: command not found") {
		t.Errorf("missing compiler: exit %d\n%s", code, out)
	}
	out, code = s2iScripts(t, "", nil, "reproducible-cc")
	if code != 2 || !strings.Contains(out, "usage: s2i-scripts reproducible-cc COMPILER") {
		t.Errorf("no compiler: exit %d\n%s", code, out)
	}
}
