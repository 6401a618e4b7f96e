package run

import (
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	tests := []struct {
		env       []string
		osRelease string
		first     string
		contains  string
	}{
		{nil, "NAME=\"CentOS Stream\"\nID=\"centos\"\n", "This is a S2I python-3.12 centos base image:", "oc new-app python:3.12~https://github.com/sclorg/s2i-python-container.git --context-dir=3.12/test/setup-test-app/"},
		{[]string{"PYTHON_VERSION=3.11", "IMAGE_NAME=python-3.11-minimal"}, "ID=debian\n", "This is a S2I python-3.11-minimal debian base image:", "blob/master/3.11/README.md"},
		{[]string{"PYTHON_VERSION=3.14"}, "", "This is a S2I python-3.14  base image:", "oc exec <pod> -- curl 127.0.0.1:8080"},
	}
	for _, tt := range tests {
		got := Usage(tt.env, []byte(tt.osRelease))
		first, _, _ := strings.Cut(got, "\n")
		if first != tt.first || !strings.Contains(got, tt.contains) || !strings.Contains(got, "oc get pods") {
			t.Errorf("Usage(%q):\n%s", tt.env, got)
		}
	}
}
