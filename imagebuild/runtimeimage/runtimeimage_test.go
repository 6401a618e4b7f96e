package runtimeimage

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/imagebuild/options"
)

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flag    []options.Artifact
		labels  map[string]string
		env     []string
		workDir string
		want    []Copy
		origin  Origin
		err     string
	}{
		{name: "default APP_ROOT", want: []Copy{{"/opt/app-root", "/opt/app-root"}}, origin: FromAppRoot},
		{name: "builder's APP_ROOT", env: []string{"APP_ROOT=/srv/app/"}, want: []Copy{{"/srv/app", "/srv/app"}}, origin: FromAppRoot},
		{name: "APP_ROOT /", env: []string{"APP_ROOT=/"}, origin: FromAppRoot, err: "must be an absolute directory other than /"},
		{
			name: "flags under WORKDIR", workDir: "/opt/app-root/src",
			flag:   []options.Artifact{{Source: "/opt/app-root/src/app.py"}, {Source: "/opt/app-root/lib/", Destination: "deps"}},
			labels: map[string]string{LabelInputFiles: "/ignored"},
			want:   []Copy{{"/opt/app-root/src/app.py", "/opt/app-root/src/app.py"}, {"/opt/app-root/lib", "/opt/app-root/src/deps/lib"}},
			origin: FromFlag,
		},
		{
			name:   "label when no flag, WORKDIR empty is /",
			labels: map[string]string{LabelInputFiles: "/opt/app-root/src;/usr/local/bin/tool:bin"},
			want:   []Copy{{"/opt/app-root/src", "/src"}, {"/usr/local/bin/tool", "/bin/tool"}},
			origin: FromLabel,
		},
		{name: "bad label", labels: map[string]string{LabelInputFiles: "relative/path"}, origin: FromLabel, err: `label io.openshift.s2i.assemble-input-files="relative/path": "relative/path": the source must be an absolute path`},
		{name: "root as artifact", flag: []options.Artifact{{Source: "/"}}, origin: FromFlag, err: "copying the whole file system"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, origin, err := Plan(tc.flag, tc.labels, tc.env, tc.workDir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if origin != tc.origin || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Plan = %v %q, want %v %q", got, origin, tc.want, tc.origin)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	copies := []Copy{
		{"/opt/app-root", "/opt/app-root"},
		{"/opt/app-root/src/static", "/srv/static"},
		{"/usr/local/bin/tool", "/w/tool"},
		{"/opt/app-rootx", "/w/x"},
	}
	out, home := Split(copies, "/opt/app-root/src/")
	wantOut := []Part{
		{Source: "/opt/app-root", Dest: "/opt/app-root", Exclude: []string{"/opt/app-root/src"}},
		{Source: "/usr/local/bin/tool", Dest: "/w/tool"},
		{Source: "/opt/app-rootx", Dest: "/w/x"},
	}
	wantHome := []Part{
		{Source: "/opt/app-root/src", Dest: "/opt/app-root/src"},
		{Source: "/opt/app-root/src/static", Dest: "/srv/static"},
	}
	if !reflect.DeepEqual(out, wantOut) || !reflect.DeepEqual(home, wantHome) {
		t.Errorf("Split:\n%v\n%v\nwant:\n%v\n%v", out, home, wantOut, wantHome)
	}
	// A copy moved elsewhere keeps home's place relative to it.
	_, home = Split([]Copy{{"/opt/app-root", "/w/app-root"}}, "/opt/app-root/src")
	if want := []Part{{Source: "/opt/app-root/src", Dest: "/w/app-root/src"}}; !reflect.DeepEqual(home, want) {
		t.Errorf("moved: %v, want %v", home, want)
	}
}

func TestParents(t *testing.T) {
	have := map[string]bool{"/opt": true}
	got := Parents([]Copy{{"/a", "/opt/app-root/x"}, {"/b", "/srv/a/b"}, {"/c", "/srv/a/c"}, {"/d", "/top"}},
		func(d string) bool { return have[d] })
	want := []string{"/opt/app-root", "/srv", "/srv/a"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parents = %v, want %v", got, want)
	}
}
