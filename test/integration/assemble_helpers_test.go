package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/test/harness"
)

// asmBin is the in-image binary, built once per test binary (the tests
// only mount it read-only).
func asmBin(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := w.Scripts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// asmBox is one builder-image container state: the venv and $HOME persist
// across the steps run in it.
type asmBox struct {
	t    testing.TB
	ctx  context.Context
	spec sandbox.Spec
}

// asmNewBox makes a fresh builder stand-in of variant with the app's files
// (map path -> content) in /tmp/src, owned 1001:0 as s2i leaves them.
func asmNewBox(t testing.TB, ctx context.Context, variant string, files map[string]string) *asmBox {
	t.Helper()
	s, err := w.S2ISpec(ctx, variant, t.TempDir(), asmBin(t), "/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	b := &asmBox{t: t, ctx: ctx, spec: s}
	if files != nil {
		b.putSource(files)
	}
	return b
}

// putSource copies files into /tmp/src as root, then hands them to 1001:0.
func (b *asmBox) putSource(files map[string]string) {
	b.t.Helper()
	src := asmAppDir(b.t, files)
	s := b.spec
	s.UID, s.GID = 0, 0
	s.Mounts = append(append([]sandbox.Mount(nil), s.Mounts...), sandbox.Mount{Source: src, Target: "/tmp/src-ro", ReadOnly: true})
	s.Args = []string{"/bin/sh", "-ec", "rm -rf /tmp/src && cp -a /tmp/src-ro /tmp/src && chown -R 1001:0 /tmp/src && chmod -R g+rwX /tmp/src"}
	if out, err := harness.Output(b.ctx, s); err != nil {
		b.t.Fatalf("copy source: %v\n%s", err, out)
	}
}

// assemble runs /usr/libexec/s2i/assemble with extra environment and
// returns its combined output and exit status.
func (b *asmBox) assemble(env ...string) (string, int) {
	b.t.Helper()
	s := b.spec
	s.Env = asmEnv(s.Env, append([]string{"PIP_INDEX_URL=" + w.Index.URL, "PIP_DISABLE_PIP_VERSION_CHECK=1"}, env...)...)
	s.Args = []string{"/usr/libexec/s2i/assemble"}
	out, err := harness.Output(b.ctx, s)
	if err == nil {
		return out, 0
	}
	if exitCode(err) < 0 {
		b.t.Fatalf("assemble: %v\n%s", err, out)
	}
	return out, exitCode(err)
}

// asmEnv is base with each KEY=VALUE of set replacing any earlier KEY.
func asmEnv(base []string, set ...string) []string {
	out := append([]string(nil), base...)
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		kept := out[:0]
		for _, old := range out {
			if !strings.HasPrefix(old, k+"=") {
				kept = append(kept, old)
			}
		}
		out = append(kept, kv)
	}
	return out
}

// mustAssemble runs assemble and fails the test unless it exits 0.
func (b *asmBox) mustAssemble(env ...string) string {
	b.t.Helper()
	out, code := b.assemble(env...)
	if code != 0 {
		b.t.Fatalf("assemble exited %d:\n%s", code, out)
	}
	return out
}

// sh runs a script as 1001:0 in the box (the image's env, HOME=/opt/app-root/src).
func (b *asmBox) sh(script string) string {
	b.t.Helper()
	s := b.spec
	s.Args = []string{"/bin/sh", "-ec", script}
	out, err := harness.Output(b.ctx, s)
	if err != nil {
		b.t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return out
}

// asmAppDir is appDir for tests and benchmarks.
func asmAppDir(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// asmInOrder fails unless every want line appears in out, in this order.
func asmInOrder(t testing.TB, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (in order); output:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}
