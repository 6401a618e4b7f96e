package integration

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pys2i/pys2i/test/world"
)

// The cluster definitions (cluster/tekton, cluster/shipwright) run here as
// a pod runs them: each step in order in its own `podman run`, with exactly
// the step's security context (a random uid in group 0, every capability
// dropped, no_new_privs, the default seccomp profile), its volumes (host
// directories for the emptyDirs, shared by the steps of one run) and its
// workspaces. Only plain YAML is read here: Tekton's and Shipwright's Go
// types and validation are in the cluster module (cluster/*_test.go).

// clusterDef is what the runner needs of a Task or a ClusterBuildStrategy.
type clusterDef struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Workspaces []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
			Optional  bool   `yaml:"optional"`
			ReadOnly  bool   `yaml:"readOnly"`
		} `yaml:"workspaces"`
		Volumes []struct {
			Name string `yaml:"name"`
		} `yaml:"volumes"`
		Steps []clusterStep `yaml:"steps"`
	} `yaml:"spec"`
}

type clusterStep struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Env     []struct {
		Name  string `yaml:"name"`
		Value string `yaml:"value"`
	} `yaml:"env"`
	Workspaces []struct {
		Name string `yaml:"name"`
	} `yaml:"workspaces"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
		ReadOnly  bool   `yaml:"readOnly"`
	} `yaml:"volumeMounts"`
	SecurityContext *struct {
		RunAsNonRoot             *bool  `yaml:"runAsNonRoot"`
		RunAsUser                *int64 `yaml:"runAsUser"`
		Privileged               *bool  `yaml:"privileged"`
		AllowPrivilegeEscalation *bool  `yaml:"allowPrivilegeEscalation"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
			Add  []string `yaml:"add"`
		} `yaml:"capabilities"`
		SeccompProfile struct {
			Type string `yaml:"type"`
		} `yaml:"seccompProfile"`
	} `yaml:"securityContext"`
}

// clusterLoad reads a definition from cluster/ (path relative to it).
func clusterLoad(t *testing.T, path string) clusterDef {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "cluster", path))
	if err != nil {
		t.Fatal(err)
	}
	var d clusterDef
	if err := yaml.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(d.Spec.Steps) == 0 {
		t.Fatalf("%s: no steps", path)
	}
	return d
}

// clusterPod is one run of a definition: what a TaskRun (or a BuildRun)
// binds. Every run has fresh emptyDirs and a fresh results directory.
type clusterPod struct {
	def clusterDef
	// params: string parameters, Tekton's and Shipwright's system ones.
	params map[string]string
	// arrays: array parameters, expanded where an argument is exactly
	// $(params.NAME[*]).
	arrays map[string][]string
	// workspaces: Task workspaces bound to host directories (an optional
	// one left out is unbound: not mounted, its path "").
	workspaces map[string]string
	// volumes: host directories for volumes (Shipwright's overridden ones);
	// the others get a fresh emptyDir.
	volumes map[string]string
	// images: the local image that the kubelet would pull for a step's
	// (substituted) image reference.
	images map[string]string
	// results is the host directory of /tekton/results.
	results string
	// uid is the pod's user (group 0), as OpenShift picks it.
	uid int
	// saCreds, when set, is a directory with .docker/config.json: registry
	// credentials linked to the ServiceAccount (Shipwright's pushSecret),
	// which Tekton's entrypoint copies into $HOME of every step before the
	// step's command runs (credential initialisation); emulated as such.
	saCreds string
}

// clusterStepRun is one step's outcome.
type clusterStepRun struct {
	name           string
	code           int
	stdout, stderr string
	took           time.Duration
}

func clusterNewPod(t *testing.T, def clusterDef) *clusterPod {
	t.Helper()
	p := &clusterPod{def: def, params: map[string]string{}, arrays: map[string][]string{},
		workspaces: map[string]string{}, volumes: map[string]string{}, images: map[string]string{},
		results: clusterEmptyDir(t), uid: 1000000000 + rand.IntN(900000)}
	return p
}

// clusterEmptyDir is a host directory as Kubernetes makes an emptyDir:
// writable by any uid.
func clusterEmptyDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	return d
}

var clusterVarRE = regexp.MustCompile(`\$\(([^)]+)\)`)

// subst replaces the variables that Tekton replaces; an unknown one fails
// the test (Tekton would have refused the run).
func (p *clusterPod) subst(t *testing.T, s string) string {
	t.Helper()
	return clusterVarRE.ReplaceAllStringFunc(s, func(v string) string {
		name := v[2 : len(v)-1]
		switch {
		case strings.HasPrefix(name, "params."):
			val, ok := p.params[strings.TrimPrefix(name, "params.")]
			if !ok {
				t.Fatalf("no value for %s", v)
			}
			return val
		case strings.HasPrefix(name, "results.") && strings.HasSuffix(name, ".path"):
			return "/tekton/results/" + strings.TrimSuffix(strings.TrimPrefix(name, "results."), ".path")
		case strings.HasPrefix(name, "workspaces.") && strings.HasSuffix(name, ".path"):
			ws := strings.TrimSuffix(strings.TrimPrefix(name, "workspaces."), ".path")
			if _, bound := p.workspaces[ws]; !bound {
				return ""
			}
			return p.workspaceMount(ws)
		}
		t.Fatalf("unknown variable %s", v)
		return ""
	})
}

// substList substitutes a command or args list, expanding whole-array
// references.
func (p *clusterPod) substList(t *testing.T, list []string) []string {
	t.Helper()
	var out []string
	for _, a := range list {
		if m := regexp.MustCompile(`^\$\(params\.([^)\[]+)\[\*\]\)$`).FindStringSubmatch(a); m != nil {
			vals, ok := p.arrays[m[1]]
			if !ok {
				t.Fatalf("no value for array %s", a)
			}
			out = append(out, vals...)
			continue
		}
		out = append(out, p.subst(t, a))
	}
	return out
}

func (p *clusterPod) workspaceMount(name string) string {
	for _, w := range p.def.Spec.Workspaces {
		if w.Name == name && w.MountPath != "" {
			return w.MountPath
		}
	}
	return "/workspace/" + name
}

// isolated reports whether some step names workspace ws: then only those
// steps mount it (Tekton's step workspaces); else every step does.
func (p *clusterPod) isolated(ws string) bool {
	for _, s := range p.def.Spec.Steps {
		if slices.ContainsFunc(s.Workspaces, func(w struct {
			Name string `yaml:"name"`
		}) bool {
			return w.Name == ws
		}) {
			return true
		}
	}
	return false
}

// podmanArgs is the `podman run` of step s: its security context turned
// into podman's flags, refusing what a restricted pod refuses.
func (p *clusterPod) podmanArgs(t *testing.T, s clusterStep) []string {
	t.Helper()
	sc := s.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser != nil ||
		(sc.Privileged != nil && *sc.Privileged) || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		!slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 || sc.SeccompProfile.Type != "RuntimeDefault" {
		t.Fatalf("step %s: not a restricted security context: %+v", s.Name, sc)
	}
	args := []string{"run", "--rm", "--network", "host",
		"--user", fmt.Sprintf("%d:0", p.uid), // runAsNonRoot, the uid the platform picked
		"--cap-drop=ALL",                      // capabilities: drop: [ALL]
		"--security-opt", "no-new-privileges", // allowPrivilegeEscalation: false
		// seccompProfile RuntimeDefault: podman's default profile.
		"-v", p.results + ":/tekton/results"}
	for _, w := range p.def.Spec.Workspaces {
		host, bound := p.workspaces[w.Name]
		if !bound {
			if !w.Optional {
				t.Fatalf("workspace %s is not optional and not bound", w.Name)
			}
			continue
		}
		if p.isolated(w.Name) && !slices.ContainsFunc(s.Workspaces, func(u struct {
			Name string `yaml:"name"`
		}) bool {
			return u.Name == w.Name
		}) {
			continue
		}
		opt := ""
		if w.ReadOnly {
			opt = ":ro"
		}
		args = append(args, "-v", host+":"+p.workspaceMount(w.Name)+opt)
	}
	if p.def.Kind == "ClusterBuildStrategy" {
		// Shipwright binds the source workspace at /workspace/source in
		// every step ($(params.shp-source-root)).
		src, ok := p.workspaces["source"]
		if !ok {
			t.Fatal("a Shipwright run needs the source")
		}
		args = append(args, "-v", src+":/workspace/source")
	}
	for _, m := range s.VolumeMounts {
		host, ok := p.volumes[m.Name]
		if !ok {
			t.Fatalf("step %s mounts %s, which the run has no directory for", s.Name, m.Name)
		}
		opt := ""
		if m.ReadOnly {
			opt = ":ro"
		}
		args = append(args, "-v", host+":"+m.MountPath+opt)
	}
	for _, e := range s.Env {
		args = append(args, "-e", e.Name+"="+p.subst(t, e.Value))
	}
	image := p.subst(t, s.Image)
	local, ok := p.images[image]
	if !ok {
		t.Fatalf("step %s: no local image for %s", s.Name, image)
	}
	cmd := p.substList(t, s.Command)
	if p.saCreds != "" {
		// Tekton's entrypoint: copy the credentials into $HOME (errors are
		// not fatal), then run the step's command.
		if len(cmd) == 0 {
			t.Fatalf("step %s: the creds-init emulation needs the step's command", s.Name)
		}
		args = append(args, "-v", p.saCreds+":/tekton/creds:ro")
		cmd = append([]string{"/bin/sh", "-c", `{ mkdir -p "$HOME/.docker" && cp /tekton/creds/.docker/config.json "$HOME/.docker/config.json"; } 2>/dev/null || echo "creds-init: non-fatal: cannot copy into $HOME" >&2; exec "$@"`, "creds-init"}, cmd...)
	}
	if len(cmd) > 0 {
		args = append(args, "--entrypoint", cmd[0], local)
		args = append(args, cmd[1:]...)
	} else {
		args = append(args, local)
	}
	return append(args, p.substList(t, s.Args)...)
}

// run runs the steps in order, as a pod's containers run, until one fails
// or the step named stopAfter has run ("" = all); the emptyDirs are made
// once for the run.
func (p *clusterPod) run(t *testing.T, stopAfter string) []clusterStepRun {
	t.Helper()
	for _, v := range p.def.Spec.Volumes {
		if _, ok := p.volumes[v.Name]; !ok {
			p.volumes[v.Name] = clusterEmptyDir(t)
		}
	}
	var runs []clusterStepRun
	for _, s := range p.def.Spec.Steps {
		r := p.runStep(t, s)
		runs = append(runs, r)
		t.Logf("step %s: exit %d in %s", s.Name, r.code, r.took.Round(time.Millisecond))
		if r.code != 0 || s.Name == stopAfter {
			break
		}
	}
	return runs
}

func (p *clusterPod) runStep(t *testing.T, s clusterStep) clusterStepRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "podman", p.podmanArgs(t, s)...)
	cmd.Env = append(os.Environ(), buildConf(t).Env()...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := clusterStepRun{name: s.Name, stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("step %s: podman run: %v", s.Name, err)
	}
	return r
}

// killStep runs step s and kills its container (SIGKILL, as the kubelet
// does after the grace period) as soon as its output shows marker; it
// fails t if the step ends before that.
func (p *clusterPod) killStep(t *testing.T, s clusterStep, marker string) clusterStepRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name := fmt.Sprintf("pys2i-cluster-%d-%s", p.uid, s.Name)
	args := p.podmanArgs(t, s)
	args = append([]string{args[0], "--name", name}, args[1:]...)
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = append(os.Environ(), buildConf(t).Env()...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	r := clusterStepRun{name: s.Name}
	for !strings.Contains(out.String(), marker) {
		select {
		case err := <-exited:
			t.Fatalf("step %s ended (%v) before %q:\n%s", s.Name, err, marker, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	if _, err := world.Podman(ctx, buildConf(t), "kill", "-s", "KILL", name); err != nil {
		t.Fatalf("podman kill %s: %v", name, err)
	}
	err := <-exited
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err == nil {
		t.Fatalf("step %s exited 0 after the kill:\n%s", s.Name, out.String())
	}
	r.stdout = out.String()
	return r
}

// step is the step named name.
func (p *clusterPod) step(t *testing.T, name string) clusterStep {
	t.Helper()
	i := slices.IndexFunc(p.def.Spec.Steps, func(s clusterStep) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("no step %s", name)
	}
	return p.def.Spec.Steps[i]
}

// result is the result file name, "" when no step wrote it.
func (p *clusterPod) result(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.results, name))
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// clusterSucceeded fails t unless every step of runs ran and exited 0.
func clusterSucceeded(t *testing.T, def clusterDef, runs []clusterStepRun) {
	t.Helper()
	if len(runs) != len(def.Spec.Steps) || runs[len(runs)-1].code != 0 {
		t.Fatalf("the run failed:\n%s", clusterLog(runs))
	}
}

// clusterLog is every step's output, for failure messages.
func clusterLog(runs []clusterStepRun) string {
	var b strings.Builder
	for _, r := range runs {
		fmt.Fprintf(&b, "--- step %s: exit %d\n%s%s", r.name, r.code, r.stdout, r.stderr)
	}
	return b.String()
}
