// Package harness gives tests the test world: it finds the built world,
// starts its package index and registry on free loopback ports (stopped by
// PID), and runs commands inside its base images' root filesystems.
package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server is a background process serving on a loopback address.
type Server struct {
	Name string
	URL  string // index: http://127.0.0.1:PORT/simple; registry: 127.0.0.1:PORT
	cmd  *exec.Cmd
	done chan struct{}
}

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop terminates the server by PID and waits for it to exit.
func (s *Server) Stop() error {
	if s == nil || s.cmd == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return nil
}

func start(cmd *exec.Cmd, name string, detach bool) (*Server, error) {
	cmd.Env = cleanEnv()
	if detach {
		// Outlives the caller (make world-up): its own session, no pipes to us.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// Dies with the test binary even if it is killed.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &Server{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	return s, nil
}

// StartIndex serves dir (which holds simple/) with the indexserver binary.
func StartIndex(bin, dir string, detach bool, logw io.Writer) (*Server, error) {
	cmd := exec.Command(bin, "-root", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logw
	s, err := start(cmd, "package index", detach)
	if err != nil {
		return nil, err
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		lines <- strings.TrimSpace(line)
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case s.URL = <-lines:
	case <-time.After(10 * time.Second):
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		s.Stop()
		return nil, fmt.Errorf("package index did not start (first line %q)", s.URL)
	}
	return s, nil
}

// StartRegistry runs docker-registry (distribution) on addr (a free loopback
// port when empty) with its own configuration and storage under dir.
func StartRegistry(dir, addr string, detach bool, logw io.Writer) (*Server, error) {
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		return nil, fmt.Errorf("registry: %w (apt-get install docker-registry)", err)
	}
	if addr == "" {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		addr = "127.0.0.1:" + strconv.Itoa(port)
	}
	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "config.yml")
	body := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n", storage, addr)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", conf)
	cmd.Stdout, cmd.Stderr = logw, logw
	s, err := start(cmd, "registry", detach)
	if err != nil {
		return nil, err
	}
	s.URL = addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("registry exited at start (see its log)")
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("registry on %s not ready after 10s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// cleanEnv is the host environment less what would change a server's
// behaviour (proxies would send loopback traffic away).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "http_proxy", "https_proxy", "all_proxy", "no_proxy":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// BuildIndexServer compiles the indexserver command into dir.
func BuildIndexServer(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "indexserver")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/pys2i/pys2i/test/cmd/indexserver")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build indexserver: %w: %s", err, out)
	}
	return bin, nil
}

// portSet remembers the ports handed out to one World's tests.
type portSet struct {
	mu   sync.Mutex
	used map[int]bool
}

// Port is FreePort that never returns the same port twice for this World:
// tests running in parallel take a port, close it and bind it again later,
// so a port handed out once stays out of the draw.
func (w *World) Port() (int, error) {
	w.ports.mu.Lock()
	defer w.ports.mu.Unlock()
	if w.ports.used == nil {
		w.ports.used = map[int]bool{}
	}
	for range 100 {
		port, err := FreePort()
		if err != nil {
			return 0, err
		}
		if !w.ports.used[port] {
			w.ports.used[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("no unused loopback port after 100 tries")
}
