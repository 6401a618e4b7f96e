package integration

import (
	"strings"
	"testing"
)

// buildOnBuildBuilder makes a Docker-format builder (OCI configs cannot
// carry ONBUILD) on the test builder with the given ONBUILD instructions.
func buildOnBuildBuilder(t *testing.T, name string, onBuild ...string) string {
	t.Helper()
	cf := "FROM " + buildBuilder(t) + "\n"
	for _, ins := range onBuild {
		cf += "ONBUILD " + ins + "\n"
	}
	buildImageFromFiles(t, name, map[string]string{"Containerfile": cf}, "--format", "docker")
	return name
}

// --allowed-uids checks the builder's ONBUILD USER instructions as s2i
// does: a user outside the ranges (or a name) fails with exit 15 before
// anything runs; one inside passes; without ranges they are not checked.
// Either way pys2i warns that it does not run ONBUILD triggers.
func TestBuildOnBuildUser(t *testing.T) {
	buildIsolate(t)
	root := buildOnBuildBuilder(t, "localhost/pys2i-test/build-onbuild-root:latest", "USER root", "RUN true")
	numeric := buildOnBuildBuilder(t, "localhost/pys2i-test/build-onbuild-1001:latest", "USER 1001")
	src := buildQuickSource(t)
	tag := "localhost/pys2i-test/build-onbuild-out:latest"
	buildRmi(t, tag)
	tests := []struct {
		name, builder string
		args          []string
		code          int
		want          string
	}{
		{"root refused", root, []string{"-u", "1-"}, 15, `image "` + root + `" includes at least one ONBUILD instruction that sets the user to a user that is not allowed`},
		{"1001 allowed", numeric, []string{"-u", "1000-2000"}, 0, "warning: the builder has 1 ONBUILD instructions"},
		{"1001 outside the range", numeric, []string{"-u", "2000-"}, 15, "ONBUILD instruction"},
		{"no ranges, not checked", root, nil, 0, "warning: the builder has 2 ONBUILD instructions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := buildSnapshot(t)
			r := buildRun(t, append([]string{"build", src, tt.builder, tag, "-q"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, want %d and %q:\n%s", r.code, tt.code, tt.want, r.stderr)
			}
			if tt.code != 0 && strings.Contains(r.stderr, "running /tmp/scripts/assemble") {
				t.Errorf("assemble ran:\n%s", r.stderr)
			}
			buildNoLeftovers(t, before, r)
		})
	}
}
