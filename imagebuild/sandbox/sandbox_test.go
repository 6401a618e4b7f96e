//go:build linux

package sandbox_test

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.Init()
	if root := os.Getenv("SANDBOX_TEST_PARENT_ROOT"); root != "" {
		os.Exit(parent(root))
	}
	os.Exit(runTests(m))
}

// parent is the process that TestParentDeath kills: it starts a sandbox
// running two sleeps, says so, and waits.
func parent(root string) int {
	p, err := sandbox.Start(sandbox.Spec{
		RootFS: root,
		Args:   sh("sleep " + orphanMarker + " & echo ready; sleep " + orphanMarker),
		Env:    []string{"PATH=/bin"},
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	p.Wait()
	return 0
}

// runTests gives the test process its own TMPDIR, so that the leftover
// checks see only this process's temp dirs even if other runs are going on.
func runTests(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "sandbox-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	os.Setenv("TMPDIR", tmp)
	return m.Run()
}

var busyboxOnce sync.Once

// busybox returns the path of a statically linked busybox, installing
// Debian's busybox-static if there is none.
func busybox(t *testing.T) string {
	t.Helper()
	const path = "/bin/busybox"
	busyboxOnce.Do(func() {
		if _, err := os.Stat(path); err == nil {
			return
		}
		out, err := exec.Command("apt-get", "install", "-y", "busybox-static").CombinedOutput()
		if err != nil {
			t.Logf("apt-get install -y busybox-static: %v\n%s", err, out)
		}
	})
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("these tests need a static busybox (apt-get install busybox-static): %v", err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Fatalf("%s is dynamically linked: these tests need busybox-static", path)
		}
	}
	return path
}

var applets = []string{
	"sh", "id", "cat", "echo", "hostname", "ls", "sleep", "touch", "mount",
	"env", "pwd", "wget", "nc", "kill", "head", "wc", "grep", "test", "rm", "mkdir",
	"readlink", "chmod", "chown", "cut", "tr", "tail", "mknod", "unshare", "umount", "chroot", "true",
}

// rootFS builds a tiny root filesystem from busybox-static, and checks when
// the test ends that nothing was left mounted on the host or in TMPDIR.
func rootFS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("sandbox tests require root: creating namespaces and mounting overlays needs CAP_SYS_ADMIN (run go test as root)")
	}
	bb := busybox(t)
	noLeftovers(t)

	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"bin", "etc", "proc", "dev", "root"} {
		if err := os.Mkdir(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range applets {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", a)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// noLeftovers records the host's mounts and this process's sandbox temp
// dirs, and fails the test if any new one remains when it ends.
func noLeftovers(t *testing.T) {
	t.Helper()
	tmp := os.TempDir()
	mounts := func() []string {
		data, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		var ours []string // only ours: other tests may mount elsewhere meanwhile
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, tmp) {
				ours = append(ours, line)
			}
		}
		return ours
	}
	temps := func() []string {
		m, err := filepath.Glob(filepath.Join(tmp, "pys2i-sandbox-*"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mountsBefore, tempsBefore := mounts(), temps()
	t.Cleanup(func() {
		for _, m := range mounts() {
			if !slices.Contains(mountsBefore, m) {
				t.Errorf("mount left on the host: %s", m)
			}
		}
		for _, d := range temps() {
			if !slices.Contains(tempsBefore, d) {
				t.Errorf("temp dir left: %s", d)
			}
		}
	})
}

// run runs spec with a time limit and returns its stdout and stderr.
func run(t *testing.T, spec sandbox.Spec) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	spec.Stdout, spec.Stderr = &out, &errOut
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = sandbox.Run(ctx, spec)
	return out.String(), errOut.String(), err
}

func sh(script string) []string { return []string{"sh", "-c", script} }

func TestRun(t *testing.T) {
	t.Setenv("SANDBOX_TEST_LEAK", "host value") // must not reach the command
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	hostData := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostData, "f"), []byte("host data\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		mod  func(s *sandbox.Spec) // s.RootFS is set
		want string
	}{
		{
			name: "runs as root by default",
			args: sh("id -u; id -g; id -G"),
			want: "0\n0\n0\n",
		},
		{
			name: "uid and gid without supplementary groups",
			args: sh("id -u; id -g; id -G"),
			mod: func(s *sandbox.Spec) {
				s.UID, s.GID = 1000, 1001
				// The init inherits this process's groups: give it one that
				// the command must not keep.
				groups, err := syscall.Getgroups()
				if err != nil {
					t.Fatal(err)
				}
				if err := syscall.Setgroups(append(groups, 4242)); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { syscall.Setgroups(groups) })
			},
			want: "1000\n1001\n1001\n",
		},
		{
			name: "environment is exactly Env",
			args: []string{"env"},
			mod:  func(s *sandbox.Spec) { s.Env = []string{"PATH=/bin", "GREETING=hello world"} },
			want: "PATH=/bin\nGREETING=hello world\n",
		},
		{
			name: "Args[0] is looked up in the PATH of Env",
			args: []string{"hello"},
			mod: func(s *sandbox.Spec) {
				s.Env = []string{"PATH=/opt/tools:/bin"}
				dir := filepath.Join(s.RootFS, "opt", "tools")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				script := "#!/bin/sh\necho hello from /opt/tools\n"
				if err := os.WriteFile(filepath.Join(dir, "hello"), []byte(script), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			want: "hello from /opt/tools\n",
		},
		{
			name: "init is pid 1 of a new pid namespace",
			args: sh(`test $$ != 1 && echo not pid 1; cat /proc/1/cmdline`),
			want: "not pid 1\n" + sandbox.InitMarker + "\x00",
		},
		{
			name: "default hostname",
			args: []string{"hostname"},
			want: "sandbox\n",
		},
		{
			name: "hostname",
			args: []string{"hostname"},
			mod:  func(s *sandbox.Spec) { s.Hostname = "box1" },
			want: "box1\n",
		},
		{
			name: "default working directory",
			args: []string{"pwd"},
			want: "/\n",
		},
		{
			name: "working directory",
			args: []string{"pwd"},
			mod:  func(s *sandbox.Spec) { s.Dir = "/tmp" },
			want: "/tmp\n",
		},
		{
			name: "stdin",
			args: []string{"cat"},
			mod:  func(s *sandbox.Spec) { s.Stdin = strings.NewReader("from stdin") },
			want: "from stdin",
		},
		{
			name: "minimal dev usable by a non-root user",
			args: sh("echo x > /dev/null && head -c 3 /dev/urandom | wc -c && ls /dev && ls /dev/pts"),
			mod:  func(s *sandbox.Spec) { s.UID, s.GID = 1000, 1000 },
			want: "3\nfd\nfull\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\nptmx\n",
		},
		{
			name: "hosts file from the host and read-only",
			args: sh("cat /etc/hosts; echo >> /etc/hosts 2>/dev/null || echo read-only"),
			want: string(hosts) + "read-only\n",
		},
		{
			name: "read-only bind mount",
			args: sh("cat /data/f; touch /data/g 2>/dev/null || echo read-only"),
			mod: func(s *sandbox.Spec) {
				s.Mounts = []sandbox.Mount{{Source: hostData, Target: "/data", ReadOnly: true}}
			},
			want: "host data\nread-only\n",
		},
		{
			name: "bind mount of a file through a symlink stays inside the root",
			args: sh("cat /etc/link"),
			mod: func(s *sandbox.Spec) {
				// An absolute symlink that, followed on the host, would
				// mount over the host's /srv/sandbox-test-target.
				if err := os.Symlink("/srv/sandbox-test-target", filepath.Join(s.RootFS, "etc", "link")); err != nil {
					t.Fatal(err)
				}
				s.Mounts = []sandbox.Mount{{Source: filepath.Join(hostData, "f"), Target: "/etc/link"}}
			},
			want: "host data\n",
		},
		{
			name: "orphans are reaped",
			args: sh(`sh -c 'sleep 0.2 &'; sleep 1; grep -l '^State:.Z' /proc/[0-9]*/status || echo no zombies`),
			want: "no zombies\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := sandbox.Spec{RootFS: rootFS(t), Args: tt.args, Env: []string{"PATH=/bin"}}
			if tt.mod != nil {
				tt.mod(&spec)
			}
			out, errOut, err := run(t, spec)
			if err != nil {
				t.Fatalf("Run: %v\nstderr: %s", err, errOut)
			}
			if out != tt.want {
				t.Errorf("stdout = %q, want %q (stderr: %q)", out, tt.want, errOut)
			}
		})
	}
	if _, err := os.Lstat("/srv/sandbox-test-target"); err == nil {
		t.Error("a bind mount followed a symlink onto the host")
	}
	if h, _ := os.Hostname(); h != hostname {
		t.Errorf("the host's hostname changed from %q to %q", hostname, h)
	}
}

// TestNamespaces checks which namespaces the command shares with the host:
// only the network one.
func TestNamespaces(t *testing.T) {
	names := []string{"ipc", "mnt", "net", "pid", "uts"}
	out, errOut, err := run(t, sandbox.Spec{
		RootFS: rootFS(t),
		Args:   sh("for n in " + strings.Join(names, " ") + "; do readlink /proc/self/ns/$n; done"),
		Env:    []string{"PATH=/bin"},
	})
	if err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, errOut)
	}
	inside := strings.Fields(out)
	if len(inside) != len(names) {
		t.Fatalf("stdout = %q, want %d namespaces", out, len(names))
	}
	for i, name := range names {
		host, err := os.Readlink("/proc/self/ns/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if shared := inside[i] == host; shared != (name == "net") {
			t.Errorf("%s namespace: inside %s, host %s; want shared only for net", name, inside[i], host)
		}
	}
}

func TestReadWriteBindMount(t *testing.T) {
	root := rootFS(t)
	host := t.TempDir()
	spec := sandbox.Spec{
		RootFS: root,
		Args:   sh("echo written inside > /data/out"),
		Env:    []string{"PATH=/bin"},
		Mounts: []sandbox.Mount{{Source: host, Target: "/data"}},
	}
	if _, errOut, err := run(t, spec); err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, errOut)
	}
	got, err := os.ReadFile(filepath.Join(host, "out"))
	if err != nil || string(got) != "written inside\n" {
		t.Errorf("host file = %q, %v; want %q", got, err, "written inside\n")
	}
}

// snapshot describes every file under root, to detect any change.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v %d %v", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			desc += fmt.Sprintf(" %d:%d", st.Uid, st.Gid)
		}
		files[path] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func assertUnchanged(t *testing.T, root string, before map[string]string) {
	t.Helper()
	after := snapshot(t, root)
	for path, desc := range after {
		if before[path] != desc {
			t.Errorf("root filesystem changed on the host: %s: %q, was %q", path, desc, before[path])
		}
	}
	for path := range before {
		if _, ok := after[path]; !ok {
			t.Errorf("root filesystem changed on the host: %s removed", path)
		}
	}
}

func TestWritesGoToTheUpperLayer(t *testing.T) {
	root := rootFS(t)
	before := snapshot(t, root)
	spec := sandbox.Spec{
		RootFS: root,
		Env:    []string{"PATH=/bin"},
		Args:   sh("echo new > /etc/new && rm /bin/ls && mkdir -p /tmp/a/b && chmod 700 / && echo ok"),
	}
	if out, errOut, err := run(t, spec); err != nil || out != "ok\n" {
		t.Fatalf("first run: %q, %v\nstderr: %s", out, err, errOut)
	}
	assertUnchanged(t, root, before)

	// Without StateDir, the next run starts from the root filesystem again.
	spec.UID = 1000
	spec.Args = sh("test -e /etc/new || echo no /etc/new; test -e /bin/ls && echo /bin/ls is back")
	out, errOut, err := run(t, spec)
	if err != nil {
		t.Fatalf("second run: %v\nstderr: %s", err, errOut)
	}
	if want := "no /etc/new\n/bin/ls is back\n"; out != want {
		t.Errorf("second run: stdout = %q, want %q", out, want)
	}
}

func TestStateDirPersists(t *testing.T) {
	root := rootFS(t)
	state := filepath.Join(t.TempDir(), "state")
	before := snapshot(t, root)
	spec := sandbox.Spec{
		RootFS:   root,
		StateDir: state,
		Env:      []string{"PATH=/bin"},
		Args:     sh("echo v1 > /etc/state && rm /bin/ls"),
	}
	if _, errOut, err := run(t, spec); err != nil {
		t.Fatalf("first run: %v\nstderr: %s", err, errOut)
	}
	spec.UID = 1000 // also checks that "/" is still traversable
	spec.Args = sh("cat /etc/state; test -e /bin/ls || echo /bin/ls still removed")
	out, errOut, err := run(t, spec)
	if err != nil {
		t.Fatalf("second run: %v\nstderr: %s", err, errOut)
	}
	if want := "v1\n/bin/ls still removed\n"; out != want {
		t.Errorf("second run: stdout = %q, want %q", out, want)
	}
	if got, err := os.ReadFile(filepath.Join(state, "upper", "etc", "state")); err != nil || string(got) != "v1\n" {
		t.Errorf("StateDir/upper/etc/state = %q, %v; want %q", got, err, "v1\n")
	}
	assertUnchanged(t, root, before)
}

func TestExitStatus(t *testing.T) {
	root := rootFS(t)
	tests := []struct {
		script string
		want   int // 0: no error
	}{
		{"exit 0", 0},
		{"exit 7", 7},
		{"exit 125", 125}, // the init's setup status, but here the command's
		{"kill -KILL $$", 128 + 9},
		{"kill -TERM $$", 128 + 15},
		{"kill -USR1 $$", 128 + 10},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			_, errOut, err := run(t, sandbox.Spec{RootFS: root, Args: sh(tt.script), Env: []string{"PATH=/bin"}})
			if tt.want == 0 {
				if err != nil {
					t.Fatalf("Run: %v\nstderr: %s", err, errOut)
				}
				return
			}
			var ee *sandbox.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("Run: %v (%T), want *sandbox.ExitError\nstderr: %s", err, err, errOut)
			}
			if ee.Code != tt.want || ee.ExitCode() != tt.want {
				t.Errorf("exit code = %d, want %d", ee.Code, tt.want)
			}
		})
	}
}

// startWithReady starts script, which must print "ready" once set up, and
// returns when it did, with a reader of the rest of its output.
func startWithReady(t *testing.T, spec sandbox.Spec) (*sandbox.Process, *bufio.Reader) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	// Fail rather than hang if the sandbox never answers.
	if err := r.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	spec.Stdout = w
	p, err := sandbox.Start(spec)
	w.Close() // the sandbox has its own copy
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { p.Kill(); p.Wait() })
	br := bufio.NewReader(r)
	line, err := br.ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("first line = %q, %v; want ready", line, err)
	}
	return p, br
}

func TestSignalIsForwarded(t *testing.T) {
	root := rootFS(t)
	for _, sig := range []syscall.Signal{
		syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH,
	} {
		t.Run(sig.String(), func(t *testing.T) {
			name := fmt.Sprint(int(sig)) // busybox trap takes numbers
			script := fmt.Sprintf("trap 'echo got %s; exit 3' %s; echo ready; sleep 1000 & wait", name, name)
			p, out := startWithReady(t, sandbox.Spec{RootFS: root, Args: sh(script), Env: []string{"PATH=/bin"}})
			if err := p.Signal(sig); err != nil {
				t.Fatalf("Signal: %v", err)
			}
			rest, err := io.ReadAll(out)
			if err != nil {
				t.Fatalf("reading output: %v", err)
			}
			if want := "got " + name + "\n"; string(rest) != want {
				t.Errorf("output after the signal = %q, want %q", rest, want)
			}
			var ee *sandbox.ExitError
			if err := p.Wait(); !errors.As(err, &ee) || ee.Code != 3 {
				t.Errorf("Wait = %v, want exit status 3", err)
			}
		})
	}
}

func TestSignalNotForwarded(t *testing.T) {
	root := rootFS(t)
	p, _ := startWithReady(t, sandbox.Spec{RootFS: root, Args: sh("echo ready; sleep 1000"), Env: []string{"PATH=/bin"}})
	if err := p.Signal(syscall.SIGALRM); err == nil {
		t.Error("Signal(SIGALRM) = nil, want an error: the init does not forward it")
	}
}

// sleepers returns the host pids of processes running "sleep <marker>".
func sleepers(t *testing.T, marker string) []string {
	t.Helper()
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var pids []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err == nil && string(data) == "sleep\x00"+marker+"\x00" {
			pids = append(pids, filepath.Base(filepath.Dir(p)))
		}
	}
	return pids
}

// waitSleepers waits until n processes run "sleep <marker>": "ready" is
// echoed before the shell has forked and exec'd its foreground sleep, so
// counting at once races with the shell.
func waitSleepers(t *testing.T, marker string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(sleepers(t, marker)) != n {
		if time.Now().After(deadline) {
			t.Errorf("%d sleeps running, want %d", len(sleepers(t, marker)), n)
			return // the test goes on to kill them
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKill(t *testing.T) {
	root := rootFS(t)
	const marker = "1000.123" // a unique duration to find our sleeps on the host
	// Two sleeps: one is the command's child, which only the namespace kill reaches.
	script := "sleep " + marker + " & echo ready; sleep " + marker
	p, _ := startWithReady(t, sandbox.Spec{RootFS: root, Args: sh(script), Env: []string{"PATH=/bin"}})
	waitSleepers(t, marker, 2)
	start := time.Now()
	if err := p.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	var ee *sandbox.ExitError
	if err := p.Wait(); !errors.As(err, &ee) || ee.Code != 137 {
		t.Errorf("Wait = %v, want exit status 137", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Kill took %v", d)
	}
	if pids := sleepers(t, marker); len(pids) != 0 {
		t.Errorf("processes left after Kill: %v", pids)
	}
	if err := p.Kill(); err != nil {
		t.Errorf("second Kill: %v, want nil", err)
	}
}

// orphanMarker is the sleep duration of TestParentDeath's sandbox.
const orphanMarker = "1000.456"

// TestParentDeath checks that the sandbox dies with the process that started
// it, even one killed with SIGKILL, which had no chance to clean up.
func TestParentDeath(t *testing.T) {
	root := rootFS(t)
	cmd := exec.Command(os.Args[0])
	// The killed parent cannot remove its temp dirs: give it its own TMPDIR.
	cmd.Env = append(os.Environ(), "SANDBOX_TEST_PARENT_ROOT="+root, "TMPDIR="+t.TempDir())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("parent said %q, %v; want ready", line, err)
	}
	waitSleepers(t, orphanMarker, 2)
	cmd.Process.Kill()
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for len(sleepers(t, orphanMarker)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("sandbox processes %v still running 5s after their parent died", sleepers(t, orphanMarker))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunContextCancel(t *testing.T) {
	root := rootFS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := sandbox.Run(ctx, sandbox.Spec{RootFS: root, Args: []string{"sleep", "1000"}, Env: []string{"PATH=/bin"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v after a 300ms deadline", d)
	}
}

func TestHostLoopbackIsReachable(t *testing.T) {
	root := rootFS(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the host\n")
	}))
	defer srv.Close()
	out, errOut, err := run(t, sandbox.Spec{
		RootFS: root,
		Args:   []string{"wget", "-q", "-O", "-", srv.URL},
		Env:    []string{"PATH=/bin"},
		UID:    1000,
		GID:    1000,
	})
	if err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, errOut)
	}
	if want := "hello from the host\n"; out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
}

func TestErrors(t *testing.T) {
	root := rootFS(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		spec     sandbox.Spec
		want     string // the whole message if exact, else a prefix
		exact    bool
		notExist bool // errors.Is(err, fs.ErrNotExist)
		onStderr bool // setup error: also written to the command's stderr
	}{
		{
			name:     "missing root filesystem",
			spec:     sandbox.Spec{RootFS: "/nonexistent/sandbox-root", Args: []string{"sh"}},
			want:     "sandbox: root filesystem /nonexistent/sandbox-root: no such file or directory",
			exact:    true,
			notExist: true,
		},
		{
			name:  "root filesystem is a file",
			spec:  sandbox.Spec{RootFS: file, Args: []string{"sh"}},
			want:  "sandbox: root filesystem " + file + ": not a directory",
			exact: true,
		},
		{
			name: "no root filesystem",
			spec: sandbox.Spec{Args: []string{"sh"}},
			want: "sandbox: no root filesystem",
		},
		{
			name: "empty Args",
			spec: sandbox.Spec{RootFS: root},
			want: "sandbox: no command",
		},
		{
			name: "relative mount target",
			spec: sandbox.Spec{RootFS: root, Args: []string{"sh"}, Mounts: []sandbox.Mount{{Source: file, Target: "data"}}},
			want: `sandbox: mount target "data" is not absolute`,
		},
		{
			name:     "missing mount source",
			spec:     sandbox.Spec{RootFS: root, Args: []string{"sh"}, Mounts: []sandbox.Mount{{Source: "/nonexistent/src", Target: "/data"}}},
			want:     "sandbox: mount source /nonexistent/src: no such file or directory",
			exact:    true,
			notExist: true,
		},
		{
			name:     "command not in the sandbox's PATH",
			spec:     sandbox.Spec{RootFS: root, Args: []string{"go"}, Env: []string{"PATH=/bin:" + os.Getenv("PATH")}},
			want:     `sandbox: start go: executable file not found in PATH`,
			onStderr: true,
		},
		{
			name:     "no PATH in Env",
			spec:     sandbox.Spec{RootFS: root, Args: []string{"sh"}},
			want:     `sandbox: start sh: executable file not found in PATH ""`,
			exact:    true,
			onStderr: true,
		},
		{
			name:     "missing working directory",
			spec:     sandbox.Spec{RootFS: root, Args: []string{"sh"}, Env: []string{"PATH=/bin"}, Dir: "/nonexistent"},
			want:     "sandbox: chdir /nonexistent: no such file or directory",
			exact:    true,
			onStderr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, err := run(t, tt.spec)
			if err == nil {
				t.Fatal("Run = nil, want an error")
			}
			var ee *sandbox.ExitError
			if errors.As(err, &ee) {
				t.Errorf("Run = %v: a setup error must not be an *ExitError", err)
			}
			msg := err.Error()
			if tt.exact && msg != tt.want || !strings.HasPrefix(msg, tt.want) {
				t.Errorf("error = %q, want %q", msg, tt.want)
			}
			if tt.notExist && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
			}
			if tt.onStderr && errOut != msg+"\n" {
				t.Errorf("stderr = %q, want the error line %q", errOut, msg+"\n")
			}
		})
	}
}

// A writable root takes the command's writes itself, with no overlay, and
// still gets its own /proc and /dev without leaving them behind in it.
func TestWritableRoot(t *testing.T) {
	root := rootFS(t)
	spec := sandbox.Spec{
		RootFS:   root,
		Writable: true,
		Env:      []string{"PATH=/bin"},
		Args:     sh("echo new > /etc/new && rm /bin/ls && mkdir -p /tmp/a && grep -c ' / ' /proc/self/mountinfo >/dev/null && echo ok"),
	}
	if out, errOut, err := run(t, spec); err != nil || out != "ok\n" {
		t.Fatalf("run: %q, %v\nstderr: %s", out, err, errOut)
	}
	if got, err := os.ReadFile(filepath.Join(root, "etc", "new")); err != nil || string(got) != "new\n" {
		t.Errorf("RootFS/etc/new = %q, %v; want %q", got, err, "new\n")
	}
	if _, err := os.Lstat(filepath.Join(root, "bin", "ls")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RootFS/bin/ls still there: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(root, "tmp", "a")); err != nil || !fi.IsDir() {
		t.Errorf("RootFS/tmp/a: %v", err)
	}
	if ents, err := os.ReadDir(filepath.Join(root, "dev")); err != nil || len(ents) != 0 {
		t.Errorf("RootFS/dev holds %v (%v), want nothing: /dev is a tmpfs inside", ents, err)
	}

	spec.StateDir = t.TempDir()
	if _, err := sandbox.Start(spec); err == nil || !strings.Contains(err.Error(), "StateDir") {
		t.Errorf("Writable with StateDir: err = %v, want a refusal", err)
	}
}
