package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
		if os.Getenv("RUNTIME_TEST_OWN_PROC") != "" {
			// In a new mount namespace (Cloneflags): a /proc of this
			// process's pid namespace, as a container has.
			if err := ownProc(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		}
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

// ownProc mounts a proc file system on /proc, keeping the mount from the
// parent's mount namespace.
func ownProc() error {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	return nil
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
