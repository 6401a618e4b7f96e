package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/run"
)

// The test binary doubles as the program under test: with
// RUNTIME_TEST_HELPER=supervise it is the init wrapper running its
// arguments; with =execute it carries out the JSON plan in RUNTIME_TEST_PLAN.
func TestMain(m *testing.M) {
	switch os.Getenv("RUNTIME_TEST_HELPER") {
	case "supervise":
		path, err := LookPath(os.Args[1], os.Environ(), ".")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(127)
		}
		os.Exit(Supervise(path, os.Args[1:], os.Environ()))
	case "execute":
		var p run.Plan
		if err := json.Unmarshal([]byte(os.Getenv("RUNTIME_TEST_PLAN")), &p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(Execute(p, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// helper returns a command running the test binary in a helper mode.
func helper(t *testing.T, mode string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "RUNTIME_TEST_HELPER="+mode)
	return cmd
}

// procStat returns (state, ppid) of a process from /proc, ok false if gone.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	ppid, _ = strconv.Atoi(f[1])
	return f[0][0], ppid, true
}

// children lists the processes whose parent is pid, with their states.
func children(pid int) map[int]byte {
	out := map[int]byte{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, pp, ok := procStat(n); ok && pp == pid {
			out[n] = st
		}
	}
	return out
}

// waitFile waits for a file to appear.
func waitFile(t *testing.T, path string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within %v", path, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func tempFile(t *testing.T, name string) string {
	return filepath.Join(t.TempDir(), name)
}
