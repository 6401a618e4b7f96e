package integration

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// Pulling the builder from a registry shows containers/image's progress:
// bars (terminal control sequences) when stderr is a terminal, plain
// "Copying blob" lines without a single escape sequence otherwise.
func TestBuildProgressOutput(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildQuickSource(t)
	remote := w.Registry.URL + "/pys2i-test/build-builder:latest"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := world.Podman(ctx, buildConf(t), "push", "--tls-verify=false", builder, "docker://"+remote); err != nil {
		t.Fatal(err)
	}
	buildRmi(t, remote)
	tag := "localhost/pys2i-test/build-progress:latest"
	buildRmi(t, tag)
	args := []string{"build", src, "docker://" + remote, tag, "-q", "--tls-verify=false"}

	t.Run("pipe", func(t *testing.T) {
		r := buildRun(t, args...)
		if r.code != 0 {
			t.Fatalf("pys2i build: exit %d\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "Copying blob") || !strings.Contains(r.stderr, "Writing manifest") {
			t.Errorf("no plain progress lines:\n%s", r.stderr)
		}
		if strings.ContainsAny(r.stdout+r.stderr, "\x1b\r") {
			t.Errorf("terminal control characters without a terminal:\n%q", r.stderr)
		}
	})
	t.Run("terminal", func(t *testing.T) {
		// script(1) runs pys2i on a pseudo-terminal.
		quoted := make([]string, 0, len(args)+1)
		for _, a := range append([]string{buildBinary(t)}, args...) {
			quoted = append(quoted, "'"+a+"'")
		}
		cmd, _ := buildCmd(t, ctx, "unused")
		// Its terminal has no size unless told (bars need a width).
		script := exec.CommandContext(ctx, "script", "-qec", "stty cols 120 rows 40; exec "+strings.Join(quoted, " "), "/dev/null")
		script.Env = cmd.Env
		out, err := script.CombinedOutput()
		if err != nil {
			t.Fatalf("pys2i build on a terminal: %v\n%q", err, out)
		}
		if !strings.Contains(string(out), "\x1b[") || !strings.Contains(string(out), "Copying blob") {
			t.Errorf("no progress bars on a terminal:\n%q", out)
		}
		t.Logf("on a terminal (%d bytes): %q", len(out), firstN(string(out), 400))
	})
}

func firstN(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
