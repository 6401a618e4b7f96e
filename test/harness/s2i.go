package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
)

// The upstream builder images' layout (sclorg python-312, see
// shared/spec/sclorg-python-scripts.md section 6).
const (
	AppRoot     = "/opt/app-root"
	AppHome     = "/opt/app-root/src"
	ScriptsPath = "/usr/libexec/s2i"
)

// ScriptNames are the names the in-image binary is installed under, in
// ScriptsPath, besides /usr/bin/fix-permissions.
var ScriptNames = []string{"assemble", "run", "usage", "save-artifacts"}

// BuildScripts compiles the static in-image binary (cmd/s2i-scripts) into dir.
func BuildScripts(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "s2i-scripts")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "github.com/pys2i/pys2i/cmd/s2i-scripts")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build s2i-scripts: %w: %s", err, out)
	}
	return bin, nil
}

// scriptsBin is the in-image binary built once per World: every test mounts
// it read-only, so one build serves them all (concurrent tests included).
type scriptsBin struct {
	mu   sync.Mutex
	path string
}

// Scripts returns the in-image binary (cmd/s2i-scripts), built on the first
// call into the harness's temporary directory.
func (w *World) Scripts(ctx context.Context) (string, error) {
	w.scripts.mu.Lock()
	defer w.scripts.mu.Unlock()
	if w.scripts.path != "" {
		return w.scripts.path, nil
	}
	dir := filepath.Join(w.tmp, "scripts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	bin, err := BuildScripts(ctx, dir)
	if err != nil {
		return "", err
	}
	w.scripts.path = bin
	return bin, nil
}

// S2IEnv is the environment of a pys2i builder image made from a base image:
// the upstream ENV, with the venv first in PATH and VIRTUAL_ENV set (what
// BASH_ENV activation gave the bash scripts).
func S2IEnv(base []string, python string) []string {
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	var env []string
	for _, kv := range base {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = p
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"PATH="+AppRoot+"/bin:"+AppHome+"/.local/bin:"+AppHome+"/bin:"+path,
		"APP_ROOT="+AppRoot, "HOME="+AppHome, "VIRTUAL_ENV="+AppRoot,
		"STI_SCRIPTS_PATH="+ScriptsPath, "PYTHONUNBUFFERED=1", "PYTHONIOENCODING=UTF-8",
		"LC_ALL=en_US.UTF-8", "LANG=en_US.UTF-8", "PIP_NO_CACHE_DIR=off",
		"PLATFORM=debian", "PYTHON_VERSION="+python,
	)
}

// s2iTemplates holds, per variant, a sandbox upper layer in which the
// builder image's venv was made once; tests copy it instead of making it again.
type s2iTemplates struct {
	mu   sync.Mutex
	dirs map[string]string
}

// S2ISpec returns a spec that runs args in a stand-in for a pys2i builder
// image made from the world's base image variant: the venv at /opt/app-root
// and HOME=/opt/app-root/src, owned 1001:0, user 1001 "default" in
// /etc/passwd as upstream's useradd makes it, bin installed at the upstream
// script paths and /usr/bin/fix-permissions, the builder ENV, user 1001:0,
// WORKDIR $HOME. Writes persist in state across calls (the builder layer is
// copied into a state only once).
func (w *World) S2ISpec(ctx context.Context, variant, state, bin string, args ...string) (sandbox.Spec, error) {
	tmpl, err := w.s2iTemplate(ctx, variant)
	if err != nil {
		return sandbox.Spec{}, err
	}
	if err := os.MkdirAll(state, 0o755); err != nil {
		return sandbox.Spec{}, err
	}
	// A state that already has its layer keeps it: earlier runs' writes persist.
	if _, err := os.Stat(filepath.Join(state, "upper")); os.IsNotExist(err) {
		if out, err := exec.CommandContext(ctx, "cp", "-a", filepath.Join(tmpl, "upper"), state+"/").CombinedOutput(); err != nil {
			return sandbox.Spec{}, fmt.Errorf("copy builder layer: %w: %s", err, out)
		}
	}
	s, err := w.Spec(variant, args...)
	if err != nil {
		return sandbox.Spec{}, err
	}
	s.StateDir = state
	s.Env = S2IEnv(w.Images[variant].Env, w.Lines[0].Python)
	s.Dir = AppHome
	for _, name := range ScriptNames {
		s.Mounts = append(s.Mounts, sandbox.Mount{Source: bin, Target: ScriptsPath + "/" + name, ReadOnly: true})
	}
	s.Mounts = append(s.Mounts, sandbox.Mount{Source: bin, Target: "/usr/bin/fix-permissions", ReadOnly: true})
	return s, nil
}

func (w *World) s2iTemplate(ctx context.Context, variant string) (string, error) {
	w.templates.mu.Lock()
	defer w.templates.mu.Unlock()
	if d, ok := w.templates.dirs[variant]; ok {
		return d, nil
	}
	dir := filepath.Join(w.tmp, "s2i-"+variant)
	s, err := w.Spec(variant, "/bin/sh", "-ec", fmt.Sprintf(`python3 -m venv %[1]s
mkdir -p %[2]s
chown -R 1001:0 %[1]s
chmod -R g+rwX %[1]s
echo "default:x:1001:0:Default Application User:%[2]s:/sbin/nologin" >> /etc/passwd`, AppRoot, AppHome))
	if err != nil {
		return "", err
	}
	s.UID, s.GID, s.StateDir = 0, 0, dir
	if out, err := Output(ctx, s); err != nil {
		return "", fmt.Errorf("prepare the builder layer of %s: %w\n%s", variant, err, out)
	}
	if w.templates.dirs == nil {
		w.templates.dirs = map[string]string{}
	}
	w.templates.dirs[variant] = dir
	return dir, nil
}
