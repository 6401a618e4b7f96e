package cluster

import (
	"context"
	"errors"
	"fmt"

	buildv1beta1 "github.com/shipwright-io/build/pkg/apis/build/v1beta1"
	shpconfig "github.com/shipwright-io/build/pkg/config"
	"github.com/shipwright-io/build/pkg/reconciler/buildrun/resources"
	"github.com/shipwright-io/build/pkg/validate"
	"github.com/tektoncd/pipeline/pkg/apis/config"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/pkg/apis"
)

// TektonContext is ctx with Tekton's feature flags as a cluster sets them in
// its feature-flags ConfigMap (e.g. {"enable-api-fields": "beta"}) and the
// default defaults.
func TektonContext(ctx context.Context, flags map[string]string) (context.Context, error) {
	ff, err := config.NewFeatureFlagsFromMap(flags)
	if err != nil {
		return nil, fmt.Errorf("tekton feature flags %v: %w", flags, err)
	}
	defaults, err := config.NewDefaultsFromMap(map[string]string{})
	if err != nil {
		return nil, fmt.Errorf("tekton defaults: %w", err)
	}
	c := config.FromContextOrDefaults(ctx)
	c.FeatureFlags, c.Defaults = ff, defaults
	return config.ToContext(ctx, c), nil
}

// ValidateTask runs Tekton's own validation of a Task (what its admission
// webhook runs on kubectl apply) under the feature flags given.
func ValidateTask(ctx context.Context, t *pipelinev1.Task, flags map[string]string) error {
	ctx, err := TektonContext(ctx, flags)
	if err != nil {
		return err
	}
	if ferr := t.Validate(apis.WithinCreate(ctx)); ferr != nil {
		return fmt.Errorf("tekton rejects Task %s: %w", t.Name, ferr)
	}
	return nil
}

// SampleBuild is a Build that uses strategy s with the values given for
// its parameters, as a user writes one.
func SampleBuild(s *buildv1beta1.ClusterBuildStrategy, params map[string]string) *buildv1beta1.Build {
	kind := buildv1beta1.ClusterBuildStrategyKind
	b := &buildv1beta1.Build{
		TypeMeta:   metav1.TypeMeta{APIVersion: "shipwright.io/v1beta1", Kind: "Build"},
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "team"},
		Spec: buildv1beta1.BuildSpec{
			Source: &buildv1beta1.Source{
				Type:       buildv1beta1.GitType,
				Git:        &buildv1beta1.Git{URL: "https://git.example.com/team/app"},
				ContextDir: ptr("app"),
			},
			Strategy: buildv1beta1.Strategy{Name: s.Name, Kind: &kind},
			Output:   buildv1beta1.Image{Image: "registry.example.com/team/app:latest"},
		},
	}
	for name, value := range params {
		b.Spec.ParamValues = append(b.Spec.ParamValues, buildv1beta1.ParamValue{Name: name, SingleValue: &buildv1beta1.SingleValue{Value: ptr(value)}})
	}
	return b
}

// ValidateStrategy checks a ClusterBuildStrategy as Shipwright uses it: the
// Build's parameter values and volumes against the strategy (Shipwright's
// validate package, what its Build controller runs), then the TaskRun that
// Shipwright's BuildRun controller generates from them, validated by
// Tekton under the feature flags given.
func ValidateStrategy(ctx context.Context, s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build, flags map[string]string) error {
	if ok, reason, msg := validate.BuildParameters(s.GetParameters(), b.Spec.ParamValues); !ok {
		return fmt.Errorf("shipwright rejects Build %s of strategy %s: %s: %s", b.Name, s.Name, reason, msg)
	}
	// What the BuildRun controller checks: every parameter without a
	// default has a value (from the Build here: the sample BuildRun sets none).
	if ok, reason, msg := validate.BuildRunParameters(s.GetParameters(), b.Spec.ParamValues, nil); !ok {
		return fmt.Errorf("shipwright rejects a BuildRun of Build %s: %s: %s", b.Name, reason, msg)
	}
	if ok, reason, msg := validate.BuildVolumes(s.GetVolumes(), b.Spec.Volumes); !ok {
		return fmt.Errorf("shipwright rejects the volumes of Build %s: %s: %s", b.Name, reason, msg)
	}
	if len(s.Spec.Steps) == 0 {
		return errors.New("shipwright strategy " + s.Name + " has no steps")
	}
	tr, err := GeneratedTaskRun(s, b)
	if err != nil {
		return fmt.Errorf("shipwright cannot generate the TaskRun of strategy %s: %w", s.Name, err)
	}
	// The API server names it from its generateName.
	if tr.Name == "" {
		tr.Name = tr.GenerateName + "x7k2p"
	}
	tctx, err := TektonContext(ctx, flags)
	if err != nil {
		return err
	}
	if ferr := tr.Validate(apis.WithinCreate(tctx)); ferr != nil {
		return fmt.Errorf("tekton rejects the TaskRun that shipwright generates from strategy %s: %w", s.Name, ferr)
	}
	return nil
}

// GeneratedTaskRun is the TaskRun that Shipwright makes of strategy s for
// Build b.
func GeneratedTaskRun(s *buildv1beta1.ClusterBuildStrategy, b *buildv1beta1.Build) (*pipelinev1.TaskRun, error) {
	run := &buildv1beta1.BuildRun{
		ObjectMeta: metav1.ObjectMeta{Name: b.Name + "-run", Namespace: b.Namespace},
		Spec:       buildv1beta1.BuildRunSpec{Build: buildv1beta1.ReferencedBuild{Name: &b.Name}},
	}
	return resources.GenerateTaskRun(shpconfig.NewDefaultConfig(), b, run, "pipeline", s)
}

func ptr[T any](v T) *T { return &v }
