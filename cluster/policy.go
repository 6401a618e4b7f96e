package cluster

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	buildv1beta1 "github.com/shipwright-io/build/pkg/apis/build/v1beta1"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

// Names that the definitions share with pys2i's documentation.
const (
	// TaskCredentialsWorkspace is the Task's workspace with a config.json.
	TaskCredentialsWorkspace = "dockerconfig"
	// StrategyCredentialsVolume is the strategy's volume with a config.json.
	StrategyCredentialsVolume = "registry-auth"
)

// resultRef is a step's reference to a result's path.
var resultRef = regexp.MustCompile(`\$\(results\.([^.)]+)\.path\)`)

// CredentialSteps are the steps that talk to the registry; no other step
// may see the registry credentials (assemble runs the application's code).
var CredentialSteps = []string{"prepare", "export"}

// appRoot is the builder's $APP_ROOT: what the image is made of.
const appRoot = "/opt/app-root"

// homeOutsideAppRoot checks that a step that runs pys2i in the builder sets
// HOME outside $APP_ROOT: Tekton copies credentials linked to the
// ServiceAccount into $HOME of every step, and the builder's own HOME
// (/opt/app-root/src) is in the image.
func homeOutsideAppRoot(step string, env []corev1.EnvVar) error {
	for _, e := range env {
		if e.Name == "HOME" {
			if e.Value == appRoot || strings.HasPrefix(e.Value, appRoot+"/") || !strings.HasPrefix(e.Value, "/") {
				return fmt.Errorf("step %s: HOME %q is in %s (Tekton's credential copies would go into the image)", step, e.Value, appRoot)
			}
			return nil
		}
	}
	return fmt.Errorf("step %s sets no HOME outside %s (Tekton copies the ServiceAccount's credentials into $HOME, the builder's is in the image)", step, appRoot)
}

// Restricted checks a step's security context against the Kubernetes
// "restricted" Pod Security Standard, as pys2i's definitions promise it:
// non-root, no privilege escalation, every capability dropped and none
// added, the runtime's default seccomp profile, not privileged, and no
// runAsUser (OpenShift assigns a uid of the namespace's range).
func Restricted(step string, sc *corev1.SecurityContext) error {
	if sc == nil {
		return fmt.Errorf("step %s: no securityContext", step)
	}
	var errs []error
	if sc.Privileged != nil && *sc.Privileged {
		errs = append(errs, errors.New("privileged"))
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		errs = append(errs, errors.New("runAsNonRoot is not true"))
	}
	if sc.RunAsUser != nil {
		errs = append(errs, fmt.Errorf("runAsUser %d is set (leave the uid to the platform)", *sc.RunAsUser))
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		errs = append(errs, errors.New("allowPrivilegeEscalation is not false"))
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		errs = append(errs, errors.New("capabilities do not drop ALL"))
	} else if len(sc.Capabilities.Add) > 0 {
		errs = append(errs, fmt.Errorf("capabilities add %v", sc.Capabilities.Add))
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		errs = append(errs, errors.New("seccompProfile is not RuntimeDefault"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("step %s is not restricted: %w", step, err)
	}
	return nil
}

// CheckTask is pys2i's own policy for its Task: every step restricted, no
// step template or sidecar that could loosen it, and the credentials
// workspace in the prepare and export steps only.
func CheckTask(t *pipelinev1.Task) error {
	var errs []error
	if t.Spec.StepTemplate != nil || len(t.Spec.Sidecars) > 0 {
		errs = append(errs, errors.New("a step template or sidecars: every step states its own security context"))
	}
	results := map[string]bool{}
	for _, r := range t.Spec.Results {
		results[r.Name] = true
	}
	var withCreds []string
	for _, s := range t.Spec.Steps {
		errs = append(errs, Restricted(s.Name, s.SecurityContext))
		if s.Name != "install" {
			errs = append(errs, homeOutsideAppRoot(s.Name, s.Env))
		}
		for _, a := range slices.Concat(s.Command, s.Args) {
			for _, m := range resultRef.FindAllStringSubmatch(a, -1) {
				if !results[m[1]] {
					errs = append(errs, fmt.Errorf("step %s uses undeclared result %s (Tekton does not check it)", s.Name, m[1]))
				}
			}
		}
		if slices.ContainsFunc(s.Workspaces, func(w pipelinev1.WorkspaceUsage) bool { return w.Name == TaskCredentialsWorkspace }) {
			withCreds = append(withCreds, s.Name)
		}
	}
	declared := slices.ContainsFunc(t.Spec.Workspaces, func(w pipelinev1.WorkspaceDeclaration) bool {
		return w.Name == TaskCredentialsWorkspace && w.Optional && w.ReadOnly
	})
	if !declared {
		errs = append(errs, fmt.Errorf("workspace %s is not declared optional and readOnly", TaskCredentialsWorkspace))
	}
	if !slices.Equal(withCreds, CredentialSteps) {
		errs = append(errs, fmt.Errorf("workspace %s is mounted in steps %v, want %v only (step workspaces isolate it; a workspace no step names is mounted in all)", TaskCredentialsWorkspace, withCreds, CredentialSteps))
	}
	return errors.Join(errs...)
}

// CheckStrategy is pys2i's own policy for its strategy: every step
// restricted, and the credentials volume mounted in prepare and export only.
func CheckStrategy(s *buildv1beta1.ClusterBuildStrategy) error {
	var errs []error
	var withCreds []string
	for _, st := range s.Spec.Steps {
		errs = append(errs, Restricted(st.Name, st.SecurityContext))
		if st.Name != "install" {
			errs = append(errs, homeOutsideAppRoot(st.Name, st.Env))
		}
		if slices.ContainsFunc(st.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == StrategyCredentialsVolume }) {
			withCreds = append(withCreds, st.Name)
		}
	}
	if !slices.Equal(withCreds, CredentialSteps) {
		errs = append(errs, fmt.Errorf("volume %s is mounted in steps %v, want %v only", StrategyCredentialsVolume, withCreds, CredentialSteps))
	}
	return errors.Join(errs...)
}

// CheckGeneratedTaskRun checks the TaskRun that Shipwright makes of the
// strategy: the strategy's steps keep their security context, and the
// credentials volume reaches the prepare and export steps only.
func CheckGeneratedTaskRun(tr *pipelinev1.TaskRun) error {
	if tr.Spec.TaskSpec == nil {
		return errors.New("the generated TaskRun has no taskSpec")
	}
	var errs []error
	var withCreds []string
	for _, s := range tr.Spec.TaskSpec.Steps {
		if slices.Contains([]string{"install", "prepare", "assemble", "export"}, s.Name) {
			errs = append(errs, Restricted(s.Name, s.SecurityContext))
		}
		if slices.ContainsFunc(s.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == StrategyCredentialsVolume }) {
			withCreds = append(withCreds, s.Name)
		}
	}
	if !slices.Equal(withCreds, CredentialSteps) {
		errs = append(errs, fmt.Errorf("generated TaskRun: volume %s is mounted in steps %v, want %v only", StrategyCredentialsVolume, withCreds, CredentialSteps))
	}
	return errors.Join(errs...)
}
