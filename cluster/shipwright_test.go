package cluster

import (
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	buildv1beta1 "github.com/shipwright-io/build/pkg/apis/build/v1beta1"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
)

type pipelineResult = pipelinev1.TaskResult

// sampleParams are a Build's values for the strategy's parameters.
var sampleParams = map[string]string{
	"builder-image": "registry.example.com/pys2i/python-full@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	"pys2i-image":   "registry.example.com/pys2i/pys2i:latest",
}

func loadStrategy(t *testing.T) *buildv1beta1.ClusterBuildStrategy {
	t.Helper()
	s, err := LoadStrategy(StrategyFile)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func strategyStep(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, name string) *buildv1beta1.Step {
	t.Helper()
	i := slices.IndexFunc(s.Spec.Steps, func(st buildv1beta1.Step) bool { return st.Name == name })
	if i < 0 {
		t.Fatalf("no step %s", name)
	}
	return &s.Spec.Steps[i]
}

// The strategy is what Shipwright accepts for a Build, the TaskRun that
// Shipwright makes of it is what Tekton accepts, and both keep pys2i's
// promises: restricted steps, credentials in prepare and export only, and
// Shipwright's results written by every step that can fail.
func TestStrategyValid(t *testing.T) {
	s := loadStrategy(t)
	b := SampleBuild(s, sampleParams)
	// A Build gives the credentials as the overridable volume.
	b.Spec.Volumes = []buildv1beta1.BuildVolume{{Name: StrategyCredentialsVolume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "registry-auth"}}}}
	if err := ValidateStrategy(context.Background(), s, b, betaFlags); err != nil {
		t.Fatal(err)
	}
	if err := CheckStrategy(s); err != nil {
		t.Fatal(err)
	}
	tr, err := GeneratedTaskRun(s, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckGeneratedTaskRun(tr); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"prepare", "assemble", "export"} {
		st := strategyStep(t, s, name)
		for _, r := range []string{"shp-error-reason", "shp-error-message", "shp-image-digest", "shp-image-size"} {
			if !slices.ContainsFunc(st.Args, func(a string) bool { return strings.Contains(a, "$(results."+r+".path)") }) {
				t.Errorf("step %s does not write %s", name, r)
			}
		}
		for _, p := range []string{"$(params.shp-source-context)", "$(params.shp-output-image)", "$(params.builder-image)", "--insecure=$(params.shp-output-insecure)"} {
			if !slices.Contains(st.Args, p) {
				t.Errorf("step %s: no %s in %v", name, p, st.Args)
			}
		}
	}
	// Shipwright turned the parameters into the TaskRun's and the results
	// into its Task's.
	for _, r := range []string{"shp-image-digest", "shp-image-size", "shp-error-reason", "shp-error-message"} {
		if !slices.ContainsFunc(tr.Spec.TaskSpec.Results, func(x pipelineResult) bool { return x.Name == r }) {
			t.Errorf("the generated TaskRun declares no result %s", r)
		}
	}
}

// A broken copy of the strategy: where Shipwright rejects it (a Build's
// parameter it does not declare), where Tekton rejects the TaskRun that
// Shipwright makes of it, and where only pys2i's policy does.
func TestStrategyBroken(t *testing.T) {
	for _, tt := range []struct {
		name          string
		mutate        func(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build)
		projects, our string // "" = accepted
	}{
		{
			name: "missing param",
			mutate: func(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build) {
				s.Spec.Parameters = slices.DeleteFunc(s.Spec.Parameters, func(p buildv1beta1.Parameter) bool { return p.Name == "builder-image" })
			},
			projects: "UndefinedParameter",
		},
		{
			name: "param without a value",
			mutate: func(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build) {
				b.Spec.ParamValues = slices.DeleteFunc(b.Spec.ParamValues, func(p buildv1beta1.ParamValue) bool { return p.Name == "builder-image" })
			},
			projects: "MissingParameterValues",
		},
		{
			name: "credentials volume not overridable",
			mutate: func(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build) {
				for i := range s.Spec.Volumes {
					if s.Spec.Volumes[i].Name == StrategyCredentialsVolume {
						s.Spec.Volumes[i].Overridable = ptr(false)
					}
				}
			},
			projects: "VolumeNotOverridable",
		},
		{
			name: "array param not isolated",
			mutate: func(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build) {
				st := strategyStep(t, s, "assemble")
				st.Args[len(st.Args)-1] = "-e=$(params.env-vars[*])"
			},
			projects: "variable is not properly isolated",
		},
		{
			name: "privileged step",
			mutate: func(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build) {
				st := strategyStep(t, s, "assemble")
				st.SecurityContext = st.SecurityContext.DeepCopy()
				st.SecurityContext.Privileged = ptr(true)
			},
			our: "step assemble is not restricted: privileged",
		},
		{
			name: "step without seccomp",
			mutate: func(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build) {
				st := strategyStep(t, s, "export")
				st.SecurityContext = st.SecurityContext.DeepCopy()
				st.SecurityContext.SeccompProfile = nil
			},
			our: "step export is not restricted: seccompProfile is not RuntimeDefault",
		},
		{
			name: "privilege escalation",
			mutate: func(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build) {
				st := strategyStep(t, s, "install")
				st.SecurityContext = st.SecurityContext.DeepCopy()
				st.SecurityContext.AllowPrivilegeEscalation = nil
			},
			our: "step install is not restricted: allowPrivilegeEscalation is not false",
		},
		{
			name: "no HOME",
			mutate: func(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build) {
				st := strategyStep(t, s, "assemble")
				st.Env = slices.DeleteFunc(slices.Clone(st.Env), func(e corev1.EnvVar) bool { return e.Name == "HOME" })
			},
			our: "step assemble sets no HOME outside /opt/app-root",
		},
		{
			name: "credentials in assemble",
			mutate: func(t *testing.T, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build) {
				st := strategyStep(t, s, "assemble")
				st.VolumeMounts = append(st.VolumeMounts, corev1.VolumeMount{Name: StrategyCredentialsVolume, MountPath: "/pys2i/auth"})
			},
			our: "mounted in steps [prepare assemble export]",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := loadStrategy(t)
			b := SampleBuild(s, sampleParams)
			b.Spec.Volumes = []buildv1beta1.BuildVolume{{Name: StrategyCredentialsVolume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "registry-auth"}}}}
			tt.mutate(t, s, b)
			checkOutcome(t, "shipwright/tekton", ValidateStrategy(context.Background(), s, b, betaFlags), tt.projects)
			checkOutcome(t, "pys2i policy", CheckStrategy(s), tt.our)
		})
	}
}

// An unknown field (a typo) fails the strict decode.
func TestStrategyStrictDecode(t *testing.T) {
	data, err := os.ReadFile(StrategyFile)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(data, []byte("      overridable: true\n"), []byte("      overrideable: true\n"), 1)
	if bytes.Equal(bad, data) {
		t.Fatal("no overridable to misspell")
	}
	if _, err := DecodeStrategy(bad); err == nil || !strings.Contains(err.Error(), `unknown field "overrideable"`) {
		t.Fatalf("a misspelt field: %v", err)
	}
}
