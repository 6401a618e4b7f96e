package cluster

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

// betaFlags is the feature-flags ConfigMap of a default Tekton install:
// enable-api-fields "beta", which step workspaces need.
var betaFlags = map[string]string{"enable-api-fields": "beta"}

func loadTask(t *testing.T) *pipelinev1.Task {
	t.Helper()
	task, err := LoadTask(TaskFile)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func taskStep(t *testing.T, task *pipelinev1.Task, name string) *pipelinev1.Step {
	t.Helper()
	i := slices.IndexFunc(task.Spec.Steps, func(s pipelinev1.Step) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("no step %s", name)
	}
	return &task.Spec.Steps[i]
}

// The Task is what Tekton accepts and what pys2i promises: its params,
// workspaces, results and steps, every step restricted, the credentials
// in prepare and export only.
func TestTaskValid(t *testing.T) {
	task := loadTask(t)
	if err := ValidateTask(context.Background(), task, betaFlags); err != nil {
		t.Fatal(err)
	}
	if err := CheckTask(task); err != nil {
		t.Fatal(err)
	}
	if task.Name != "pys2i-build" {
		t.Errorf("name %q", task.Name)
	}
	var params []string
	for _, p := range task.Spec.Params {
		params = append(params, p.Name)
	}
	slices.Sort(params)
	if want := []string{"BUILDER_IMAGE", "ENV_VARS", "IMAGE", "PATH_CONTEXT", "PYS2I_IMAGE", "TLS_VERIFY"}; !slices.Equal(params, want) {
		t.Errorf("params %v, want %v", params, want)
	}
	for _, r := range []string{"IMAGE_DIGEST", "IMAGE_URL"} {
		if !slices.ContainsFunc(task.Spec.Results, func(x pipelinev1.TaskResult) bool { return x.Name == r }) {
			t.Errorf("no result %s (Tekton Chains reads it)", r)
		}
	}
	var steps []string
	for _, s := range task.Spec.Steps {
		steps = append(steps, s.Name)
	}
	if want := []string{"install", "prepare", "assemble", "export"}; !slices.Equal(steps, want) {
		t.Errorf("steps %v, want %v", steps, want)
	}
	for _, name := range []string{"prepare", "assemble", "export"} {
		s := taskStep(t, task, name)
		if s.Image != "$(params.BUILDER_IMAGE)" {
			t.Errorf("step %s runs in %s, want the builder", name, s.Image)
		}
		if !slices.Contains(s.Args, "--step="+name) || !slices.Contains(s.Args, "--in-place") {
			t.Errorf("step %s args %v", name, s.Args)
		}
		if slices.ContainsFunc(s.Env, func(e corev1.EnvVar) bool { return e.Name == "DOCKER_CONFIG" }) != slices.Contains(CredentialSteps, name) {
			t.Errorf("step %s: DOCKER_CONFIG %v", name, s.Env)
		}
	}
}

// Step workspaces are beta: a cluster with enable-api-fields "stable"
// refuses the Task (the README says so).
func TestTaskNeedsBetaFields(t *testing.T) {
	err := ValidateTask(context.Background(), loadTask(t), map[string]string{"enable-api-fields": "stable"})
	if err == nil || !strings.Contains(err.Error(), "step workspaces") {
		t.Fatalf("with enable-api-fields stable: %v, want a refusal of step workspaces", err)
	}
}

// A broken copy of the Task: where Tekton rejects it, and where only
// pys2i's own policy does (Tekton accepts any security context).
func TestTaskBroken(t *testing.T) {
	for _, tt := range []struct {
		name         string
		mutate       func(t *testing.T, task *pipelinev1.Task)
		tekton, ours string // "" = accepted
	}{
		{
			name: "missing param",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				task.Spec.Params = slices.DeleteFunc(task.Spec.Params, func(p pipelinev1.ParamSpec) bool { return p.Name == "PATH_CONTEXT" })
			},
			tekton: `non-existent variable`,
		},
		{
			name: "undeclared result",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				task.Spec.Results = task.Spec.Results[:1]
			},
			ours: "step prepare uses undeclared result IMAGE_URL",
		},
		{
			name: "array param not isolated",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				s := taskStep(t, task, "assemble")
				s.Args[len(s.Args)-1] = "-e=$(params.ENV_VARS[*])"
			},
			tekton: "variable is not properly isolated",
		},
		{
			name: "undeclared workspace",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				taskStep(t, task, "export").Workspaces[0].Name = "registry-creds"
			},
			tekton: `undefined workspace "registry-creds"`,
			ours:   "mounted in steps [prepare]",
		},
		{
			name: "privileged step",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				sc := taskStep(t, task, "assemble").SecurityContext.DeepCopy()
				sc.Privileged = ptr(true)
				taskStep(t, task, "assemble").SecurityContext = sc
			},
			ours: "step assemble is not restricted: privileged",
		},
		{
			name: "step without seccomp",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				sc := taskStep(t, task, "prepare").SecurityContext.DeepCopy()
				sc.SeccompProfile = nil
				taskStep(t, task, "prepare").SecurityContext = sc
			},
			ours: "step prepare is not restricted: seccompProfile is not RuntimeDefault",
		},
		{
			name: "capability added",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				sc := taskStep(t, task, "install").SecurityContext.DeepCopy()
				sc.Capabilities.Add = []corev1.Capability{"SETUID"}
				taskStep(t, task, "install").SecurityContext = sc
			},
			ours: "capabilities add [SETUID]",
		},
		{
			name: "fixed uid",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				sc := taskStep(t, task, "export").SecurityContext.DeepCopy()
				sc.RunAsUser = ptr(int64(1001))
				taskStep(t, task, "export").SecurityContext = sc
			},
			ours: "runAsUser 1001 is set",
		},
		{
			name: "credentials in assemble",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				taskStep(t, task, "assemble").Workspaces = []pipelinev1.WorkspaceUsage{{Name: TaskCredentialsWorkspace}}
			},
			ours: "mounted in steps [prepare assemble export]",
		},
		{
			name: "HOME in the app root",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				s := taskStep(t, task, "assemble")
				s.Env = slices.DeleteFunc(slices.Clone(s.Env), func(e corev1.EnvVar) bool { return e.Name == "HOME" })
				s.Env = append(s.Env, corev1.EnvVar{Name: "HOME", Value: "/opt/app-root/src"})
			},
			ours: `step assemble: HOME "/opt/app-root/src" is in /opt/app-root`,
		},
		{
			name: "no HOME",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				s := taskStep(t, task, "export")
				s.Env = slices.DeleteFunc(slices.Clone(s.Env), func(e corev1.EnvVar) bool { return e.Name == "HOME" })
			},
			ours: "step export sets no HOME outside /opt/app-root",
		},
		{
			name: "credentials in every step",
			mutate: func(t *testing.T, task *pipelinev1.Task) {
				for _, n := range CredentialSteps {
					taskStep(t, task, n).Workspaces = nil
				}
			},
			ours: "mounted in steps [], want [prepare export]",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			task := loadTask(t)
			tt.mutate(t, task)
			checkOutcome(t, "tekton", ValidateTask(context.Background(), task, betaFlags), tt.tekton)
			checkOutcome(t, "pys2i policy", CheckTask(task), tt.ours)
		})
	}
}

// An unknown field (a typo) fails the strict decode, as kubectl's strict
// validation fails it.
func TestTaskStrictDecode(t *testing.T) {
	data, err := os.ReadFile(TaskFile)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(data, []byte("      optional: true\n"), []byte("      optinal: true\n"), 1)
	if bytes.Equal(bad, data) {
		t.Fatal("no optional to misspell")
	}
	if _, err := DecodeTask(bad); err == nil || !strings.Contains(err.Error(), `unknown field "optinal"`) {
		t.Fatalf("a misspelt field: %v", err)
	}
}

// checkOutcome fails t unless err is nil for want "" or contains want.
func checkOutcome(t *testing.T, who string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s rejects it: %v", who, err)
	case want != "" && err == nil:
		t.Errorf("%s accepts it, want a rejection with %q", who, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: %v\nwant %q", who, err, want)
	}
}
