// Command world builds the offline test world and manages its servers.
//
//	world build   build (or reuse) the base images, package index, tools venv and podman store
//	world pin     resolve test/world/pyindex/pins.txt with the host's pip into lock.json beside it
//	world env     print export lines for shells and tests
//	world up      start the package index and registry in the background
//	world down    stop them (by PID)
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.podman.io/storage/pkg/reexec"

	"github.com/pys2i/pys2i/test/harness"
	"github.com/pys2i/pys2i/test/world"
	"github.com/pys2i/pys2i/test/world/pyindex"
)

func main() {
	// containers/storage re-executes this binary for some operations.
	if reexec.Init() {
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: world build|pin|env|up|down   (PYS2I_WORLD sets the directory, PYS2I_WORLD_MIRROR the Debian mirror)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := world.DefaultRoot()
	var err error
	switch os.Args[1] {
	case "build":
		err = build(ctx, root)
	case "pin":
		err = pin(ctx, filepath.Join("test", "world", "pyindex"))
	case "env":
		err = printEnv(root)
	case "up":
		err = up(ctx, root)
	case "down":
		err = down(root)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func build(ctx context.Context, root string) error {
	r, err := world.DefaultRecipe()
	if err != nil {
		return err
	}
	start := time.Now()
	b := &world.Builder{Root: root, Mirror: world.DefaultMirror(), Recipe: r, Log: os.Stderr}
	if _, err := b.Build(ctx); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "world: ready in %s (%.1fs)\n", root, time.Since(start).Seconds())
	return nil
}

// pin resolves dir/pins.txt into dir/lock.json (run from the repository
// root; needs the host's pip and its index).
func pin(ctx context.Context, dir string) error {
	text, err := os.ReadFile(filepath.Join(dir, "pins.txt"))
	if err != nil {
		return err
	}
	pins, err := pyindex.ParsePins(string(text))
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "world-pin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	start := time.Now()
	l, err := pyindex.Resolve(ctx, pins, pyindex.PinOptions{Pip: "pip", WorkDir: work, Log: os.Stderr})
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "lock.json")
	if err := os.WriteFile(out+".tmp", l.Marshal(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(out+".tmp", out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "world: %s: %d files from %d pins in %.1fs\n", out, len(l.Files), len(pins), time.Since(start).Seconds())
	return nil
}

func printEnv(root string) error {
	m, err := world.Load(root)
	if err != nil {
		return err
	}
	vars := [][2]string{
		{"PYS2I_WORLD", root},
		{"PYS2I_TEST_MIN_IMAGE", m.Images["minimal"].Name},
		{"PYS2I_TEST_FULL_IMAGE", m.Images["full"].Name},
		{"PYS2I_TEST_GO_IMAGE", m.Images["golang"].Name},
		{"PYS2I_TEST_RUNTIME_IMAGE", m.Images["runtime"].Name},
		{"PYS2I_TEST_INDEX_DIR", m.Index},
		{"PYS2I_TEST_TOOLS_BIN", filepath.Join(m.Tools, "bin")},
	}
	// Every Python line by version: PYS2I_TEST_LINES="3.11 3.13", and
	// PYS2I_TEST_313_MIN_IMAGE and so on (the first line is the one above).
	var lines []string
	for _, l := range m.Lines {
		lines = append(lines, l.Python)
		vars = append(vars,
			[2]string{"PYS2I_TEST_" + l.Tag + "_MIN_IMAGE", l.Images["minimal"].Name},
			[2]string{"PYS2I_TEST_" + l.Tag + "_FULL_IMAGE", l.Images["full"].Name},
			[2]string{"PYS2I_TEST_" + l.Tag + "_RUNTIME_IMAGE", l.Images["runtime"].Name})
	}
	vars = append(vars, [2]string{"PYS2I_TEST_LINES", strings.Join(lines, " ")})
	for _, kv := range m.Conf.Env() {
		k, v, _ := strings.Cut(kv, "=")
		vars = append(vars, [2]string{k, v})
	}
	run := filepath.Join(root, "run")
	if url, ok := running(run, "index", "indexserver"); ok {
		vars = append(vars, [2]string{"PYS2I_TEST_INDEX_URL", url})
	}
	if addr, ok := running(run, "registry", "docker-registry"); ok {
		vars = append(vars, [2]string{"PYS2I_TEST_REGISTRY", addr})
	}
	for _, kv := range vars {
		fmt.Printf("export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	fmt.Println("# start the package index and registry: make world-up; stop them: make world-down")
	return nil
}

func up(ctx context.Context, root string) error {
	m, err := world.Load(root)
	if err != nil {
		return err
	}
	run := filepath.Join(root, "run")
	if err := os.MkdirAll(run, 0o755); err != nil {
		return err
	}
	if _, ok := running(run, "index", "indexserver"); !ok {
		bin, err := harness.BuildIndexServer(ctx, run)
		if err != nil {
			return err
		}
		logf, err := os.Create(filepath.Join(run, "index.log"))
		if err != nil {
			return err
		}
		defer logf.Close()
		s, err := harness.StartIndex(bin, m.Index, true, logf)
		if err != nil {
			return err
		}
		if err := record(run, "index", s); err != nil {
			return err
		}
	}
	if _, ok := running(run, "registry", "docker-registry"); !ok {
		logf, err := os.Create(filepath.Join(run, "registry.log"))
		if err != nil {
			return err
		}
		defer logf.Close()
		// 127.0.0.1:5000 is the registry that registries.conf marks insecure,
		// so plain `podman push` works; any free port otherwise.
		addr := "127.0.0.1:5000"
		if ln, err := net.Listen("tcp", addr); err != nil {
			addr = ""
		} else {
			ln.Close()
		}
		s, err := harness.StartRegistry(filepath.Join(root, "registry"), addr, true, logf)
		if err != nil {
			return err
		}
		if err := record(run, "registry", s); err != nil {
			return err
		}
	}
	return printEnv(root)
}

func record(run, name string, s *harness.Server) error {
	if err := os.WriteFile(filepath.Join(run, name+".url"), []byte(s.URL), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(run, name+".pid"), []byte(strconv.Itoa(s.PID())), 0o644)
}

// running reports the URL of a recorded server whose PID is still that server.
func running(run, name, prog string) (string, bool) {
	if _, ok := recordedPID(run, name, prog); !ok {
		return "", false
	}
	url, err := os.ReadFile(filepath.Join(run, name+".url"))
	return string(url), err == nil
}

func recordedPID(run, name, prog string) (int, bool) {
	data, err := os.ReadFile(filepath.Join(run, name+".pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, false
	}
	// A recycled PID belongs to some other program: check what it runs.
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil || !strings.Contains(string(cmdline), prog) {
		return 0, false
	}
	return pid, true
}

func down(root string) error {
	run := filepath.Join(root, "run")
	for _, s := range [][2]string{{"index", "indexserver"}, {"registry", "docker-registry"}} {
		if pid, ok := recordedPID(run, s[0], s[1]); ok {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			for i := 0; i < 50 && syscall.Kill(pid, 0) == nil; i++ {
				time.Sleep(100 * time.Millisecond)
			}
			if syscall.Kill(pid, 0) == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			fmt.Fprintf(os.Stderr, "world: stopped %s (pid %d)\n", s[0], pid)
		}
		os.Remove(filepath.Join(run, s[0]+".pid"))
		os.Remove(filepath.Join(run, s[0]+".url"))
	}
	return nil
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
