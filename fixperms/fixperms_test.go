package fixperms

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

const helperEnv = "FIXPERMS_TEST_HELPER"

// TestMain lets the test binary act as fix-permissions, so tests can run it
// under another UID (SysProcAttr credentials).
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stderr))
	}
	code := m.Run()
	if helperBin != "" {
		os.RemoveAll(filepath.Dir(helperBin))
	}
	os.Exit(code)
}

func TestDecide(t *testing.T) {
	const (
		reg = unix.S_IFREG
		dir = unix.S_IFDIR
		lnk = unix.S_IFLNK
	)
	for _, tc := range []struct {
		name          string
		uid, gid      uint32
		mode          uint32
		owner         int
		chgrp, chmod  bool
		wantPermAfter uint32
	}{
		{"ok file", 0, 0, reg | 0o664, -1, false, false, 0},
		{"file g-w", 0, 0, reg | 0o644, -1, false, true, 0o664},
		{"file other group", 0, 5, reg | 0o664, -1, true, false, 0},
		{"exec u+x no g+x", 0, 0, reg | 0o755, -1, false, true, 0o775},
		{"exec only g+x already", 0, 0, reg | 0o670, -1, false, false, 0},
		{"no u+x keeps g-x", 0, 0, reg | 0o600, -1, false, true, 0o660},
		{"dir without g+x", 0, 0, dir | 0o760, -1, false, true, 0o770},
		{"dir without u+x gets g+x", 0, 0, dir | 0o660, -1, false, true, 0o670},
		{"setuid kept", 0, 0, reg | 0o4755, -1, false, true, 0o4775},
		{"sticky dir", 0, 0, dir | 0o1755, -1, false, true, 0o1775},
		{"link with other group", 0, 5, lnk | 0o777, -1, true, false, 0},
		{"link group 0", 0, 0, lnk | 0o777, -1, false, false, 0},
		{"not mine", 0, 5, reg | 0o600, 1001, false, false, 0},
		{"mine", 1001, 5, reg | 0o600, 1001, true, true, 0o660},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Decide(tc.uid, tc.gid, tc.mode, tc.owner)
			if c.Chgrp != tc.chgrp || c.Chmod != tc.chmod || (c.Chmod && c.Mode != tc.wantPermAfter) {
				t.Errorf("Decide = %+v, want chgrp=%v chmod=%v mode=%o", c, tc.chgrp, tc.chmod, tc.wantPermAfter)
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		path   string
		follow Follow
		err    bool
	}{
		{[]string{"/x"}, "/x", Logical, false},
		{[]string{"/x", "-P"}, "/x", Physical, false},
		{[]string{"/x", "-L"}, "/x", Logical, false},
		{[]string{"/x", "-H"}, "/x", CommandLine, false},
		{[]string{"/x", ""}, "/x", Logical, false},
		{[]string{"/x", "-Q"}, "/x", Logical, true},
		{nil, "", Logical, false},
	} {
		path, follow, err := ParseArgs(tc.args)
		if path != tc.path || follow != tc.follow || (err != nil) != tc.err {
			t.Errorf("ParseArgs(%q) = %q, %v, %v", tc.args, path, follow, err)
		}
	}
}

// makeTree builds a tree with every case fix-permissions distinguishes.
// owner is the UID of "mine" entries; root keeps a few entries as its own.
func makeTree(t *testing.T, root string, owner int) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	type ent struct {
		path string
		mode os.FileMode
		gid  int
		uid  int
	}
	ents := []ent{
		{"a", 0o755 | os.ModeDir, 0, owner},
		{"a/plain", 0o644, 0, owner},
		{"a/exec", 0o755, 5, owner},
		{"a/ok", 0o664, 0, owner},
		{"a/private", 0o600, 7, owner},
		{"a/setuid", 0o4755 | os.ModeSetuid, 5, owner},
		{"a/rootfile", 0o644, 5, 0},
		{"b", 0o700 | os.ModeDir, 5, owner},
		{"b/c", 0o750 | os.ModeDir, 0, owner},
		{"b/c/d", 0o640, 0, owner},
		{"b/rootdir", 0o755 | os.ModeDir, 5, 0},
		{"b/rootdir/f", 0o644, 0, owner},
		{".hidden", 0o600, 5, owner},
		{"target", 0o644 | os.ModeDir, 5, owner},
		{"target/x", 0o600, 5, owner},
	}
	for _, e := range ents {
		p := filepath.Join(root, e.path)
		if e.mode.IsDir() {
			must(os.Mkdir(p, 0o755))
		} else {
			must(os.WriteFile(p, []byte(e.path), 0o644))
		}
		must(os.Chown(p, e.uid, e.gid))
		must(syscall.Chmod(p, uint32(e.mode.Perm())|map[bool]uint32{true: syscall.S_ISUID}[e.mode&os.ModeSetuid != 0]))
	}
	for _, l := range []struct{ name, target string }{
		{"a/link-to-exec", "exec"},
		{"a/dangling", "nowhere"},
		{"link-to-dir", "target"},
		{"a/outside", "/etc/hostname"},
	} {
		p := filepath.Join(root, l.name)
		must(os.Symlink(l.target, p))
		must(os.Lchown(p, owner, 9))
	}
}

// snapshot lists every entry below root with its owner, group and mode.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		rel, _ := filepath.Rel(root, p)
		lines = append(lines, fmt.Sprintf("%s %d:%d %o", rel, st.Uid, st.Gid, st.Mode))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// runAs runs the upstream script or this package (through the test binary)
// on path as uid:0.
func runAs(t *testing.T, uid int, upstream bool, args ...string) string {
	t.Helper()
	var cmd *exec.Cmd
	if upstream {
		script, _ := filepath.Abs("testdata/fix-permissions.sh")
		cmd = exec.Command("/bin/sh", append([]string{script}, args...)...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	} else {
		cmd = exec.Command(helperBinary(t), args...)
		cmd.Env = []string{helperEnv + "=1"}
	}
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: 0}}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v (want exit 0 always)\n%s", err, out.String())
	}
	return out.String()
}

var helperBin string

// helperBinary is a copy of the test binary that any UID can execute.
func helperBinary(t *testing.T) string {
	t.Helper()
	if helperBin != "" {
		return helperBin
	}
	dir, err := os.MkdirTemp("", "fixperms-helper-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "fix-permissions")
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	helperBin = p
	return p
}

// accessibleTemp is a temp dir that another UID can traverse.
func accessibleTemp(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for p := d; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestMatchesUpstream runs the upstream script and the Go port on identical
// trees, as root and as an ordinary UID, with -P, -L and the default, and
// compares every entry's owner, group and mode afterwards.
func TestMatchesUpstream(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root (chown, and running as another UID)")
	}
	for _, uid := range []int{0, 1001} {
		for _, opt := range [][]string{{"-P"}, {"-L"}, {}} {
			t.Run(fmt.Sprintf("uid%d%s", uid, strings.Join(opt, "")), func(t *testing.T) {
				base := accessibleTemp(t)
				up, port := filepath.Join(base, "upstream"), filepath.Join(base, "port")
				for _, d := range []string{up, port} {
					if err := os.Mkdir(d, 0o755); err != nil {
						t.Fatal(err)
					}
					makeTree(t, d, 1001)
				}
				before := snapshot(t, port)
				outUp := runAs(t, uid, true, append([]string{up}, opt...)...)
				outPort := runAs(t, uid, false, append([]string{port}, opt...)...)
				got, want := snapshot(t, port), snapshot(t, up)
				if got != want {
					t.Errorf("after port:\n%s\n\nafter upstream:\n%s\n\nbefore:\n%s\nupstream said: %s\nport said: %s", got, want, before, outUp, outPort)
				}
			})
		}
	}
}

func TestMissingPath(t *testing.T) {
	dir := t.TempDir()
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink("nowhere", dangling); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "missing"), dangling, ""} {
		var stderr bytes.Buffer
		if code := Main([]string{p, "-P"}, &stderr); code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		want := "ERROR: File or directory " + p + " does not exist.\n"
		if stderr.String() != want {
			t.Errorf("stderr %q, want %q", stderr.String(), want)
		}
		if up := runAs(t, 0, true, p, "-P"); up != want {
			t.Errorf("upstream says %q, port %q", up, want)
		}
	}
}

// TestTouchesOnlyWhatNeedsChange: a second run changes nothing (no ctime
// bump, which is what makes overlay copy files up).
func TestTouchesOnlyWhatNeedsChange(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, 0)
	s1 := Fix(dir, Options{Follow: Physical, Owner: -1})
	if s1.Chmod == 0 || s1.Chgrp == 0 {
		t.Fatalf("first run changed nothing: %+v", s1)
	}
	s2 := Fix(dir, Options{Follow: Physical, Owner: -1})
	// The one error is upstream's too: chgrp cannot dereference a/dangling.
	if s2.Chmod != 0 || s2.Chgrp != 0 || s2.Errors != 1 {
		t.Errorf("second run: %+v, want no changes", s2)
	}
	if s2.Visited != s1.Visited {
		t.Errorf("visited %d then %d", s1.Visited, s2.Visited)
	}
}

func TestLoopUnderL(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..", filepath.Join(dir, "d", "up")); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	s := Fix(dir, Options{Follow: Logical, Owner: -1, Stderr: &stderr})
	if !strings.Contains(stderr.String(), "File system loop detected") {
		t.Errorf("stderr %q, stats %+v", stderr.String(), s)
	}
}
