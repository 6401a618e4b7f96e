package cluster

import (
	"fmt"
	"os"

	buildv1beta1 "github.com/shipwright-io/build/pkg/apis/build/v1beta1"
	pipelinev1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"sigs.k8s.io/yaml"
)

// Paths of the definitions, relative to this module's root.
const (
	TaskFile     = "tekton/pys2i-build.yaml"
	StrategyFile = "shipwright/pys2i.yaml"
)

// DecodeTask decodes a Tekton Task strictly: an unknown or misspelt field is
// an error, as kubectl apply --validate=strict makes it.
func DecodeTask(data []byte) (*pipelinev1.Task, error) {
	var t pipelinev1.Task
	if err := yaml.UnmarshalStrict(data, &t); err != nil {
		return nil, fmt.Errorf("decode Task: %w", err)
	}
	if t.APIVersion != "tekton.dev/v1" || t.Kind != "Task" {
		return nil, fmt.Errorf("decode Task: apiVersion %q kind %q, want tekton.dev/v1 Task", t.APIVersion, t.Kind)
	}
	return &t, nil
}

// DecodeStrategy decodes a Shipwright ClusterBuildStrategy strictly.
func DecodeStrategy(data []byte) (*buildv1beta1.ClusterBuildStrategy, error) {
	var s buildv1beta1.ClusterBuildStrategy
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		return nil, fmt.Errorf("decode ClusterBuildStrategy: %w", err)
	}
	if s.APIVersion != "shipwright.io/v1beta1" || s.Kind != "ClusterBuildStrategy" {
		return nil, fmt.Errorf("decode ClusterBuildStrategy: apiVersion %q kind %q, want shipwright.io/v1beta1 ClusterBuildStrategy", s.APIVersion, s.Kind)
	}
	return &s, nil
}

// LoadTask reads and decodes the Task file at path.
func LoadTask(path string) (*pipelinev1.Task, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := DecodeTask(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// LoadStrategy reads and decodes the ClusterBuildStrategy file at path.
func LoadStrategy(path string) (*buildv1beta1.ClusterBuildStrategy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := DecodeStrategy(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
