package options

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/sandbox"
)

func TestCheckImageRef(t *testing.T) {
	tests := []struct {
		ref string
		ok  bool
	}{
		{"localhost/app:latest", true},
		{"app", true},
		{"quay.io/org/app@sha256:" + strings.Repeat("a", 64), true},
		{"docker://quay.io/org/app:1", true},
		{"oci:/tmp/layout:app", true},
		{"oci-archive:/tmp/app.tar", true},
		{"containers-storage:localhost/app", true},
		{"localhost:5000/app:1", true}, // a registry with a port, not a transport
		{"App:Latest", false},
		{"app:", false},
		{"docker://Bad/Name", false},
		{"oci:", false},
		{"", false},
	}
	for _, tt := range tests {
		if err := CheckImageRef(tt.ref); (err == nil) != tt.ok {
			t.Errorf("CheckImageRef(%q) = %v, want ok=%v", tt.ref, err, tt.ok)
		}
	}
}

func TestParseArtifacts(t *testing.T) {
	tests := []struct {
		in      []string
		want    []Artifact
		wantErr string
	}{
		{in: nil},
		{in: []string{"/opt/app-root/src:app", "/a;/b:x/y"}, want: []Artifact{{"/opt/app-root/src", "app"}, {"/a", ""}, {"/b", "x/y"}}},
		{in: []string{"rel:x"}, wantErr: "absolute"},
		{in: []string{"/a:/b"}, wantErr: "relative"},
		{in: []string{"/a:../b"}, wantErr: "must not start with .."},
	}
	for _, tt := range tests {
		got, err := ParseArtifacts(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseArtifacts(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseArtifacts(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParsePullPolicy(t *testing.T) {
	for _, s := range []string{"always", "never", "if-not-present"} {
		if p, err := ParsePullPolicy(s); err != nil || string(p) != s {
			t.Errorf("ParsePullPolicy(%q) = %q, %v", s, p, err)
		}
	}
	if _, err := ParsePullPolicy("sometimes"); err == nil {
		t.Error("ParsePullPolicy(sometimes) succeeded")
	}
}

func TestValidate(t *testing.T) {
	ok := Options{Source: ".", Builder: "localhost/builder", Tag: "localhost/app", PullPolicy: images.PullIfNotPresent}
	tests := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{name: "fine", mutate: func(*Options) {}},
		{name: "no tag is fine", mutate: func(o *Options) { o.Tag = "" }},
		{name: "bad tag", mutate: func(o *Options) { o.Tag = "Bad:Tag" }, wantErr: `invalid TAG: invalid reference "Bad:Tag"`},
		{name: "no builder", mutate: func(o *Options) { o.Builder = "" }, wantErr: "BUILDER argument is empty"},
		{name: "dockerfile and runtime image", mutate: func(o *Options) { o.AsDockerfile = "out/"; o.RuntimeImage = "rt" }, wantErr: "--runtime-image cannot be used with --as-dockerfile"},
		{name: "incremental without tag", mutate: func(o *Options) { o.Incremental = true; o.Tag = "" }, wantErr: "needs a TAG"},
		{name: "incremental-from alone", mutate: func(o *Options) { o.IncrementalFrom = "prev" }, wantErr: "needs --incremental"},
		{name: "incremental from, no tag", mutate: func(o *Options) { o.Incremental = true; o.Tag = ""; o.IncrementalFrom = "prev" }},
		// s2i refuses it; pys2i reuses the previous image's dependency layer.
		{name: "incremental with a runtime image", mutate: func(o *Options) { o.Incremental = true; o.RuntimeImage = "localhost/rt" }},
		{name: "context dir escapes", mutate: func(o *Options) { o.ContextDir = "../x" }, wantErr: "leaves the source"},
		{name: "bad -e", mutate: func(o *Options) { o.Env = []string{"A"} }, wantErr: "invalid -e value"},
		{name: "http scripts", mutate: func(o *Options) { o.ScriptsURL = "https://u:p@h/s" }, wantErr: "https://***@h/s: downloading scripts over https is not supported"},
		{name: "relative destination", mutate: func(o *Options) { o.Destination = "tmp" }, wantErr: "absolute path"},
		{name: "option-like ref", mutate: func(o *Options) { o.Ref = "--upload-pack=x" }, wantErr: "cannot start with '-'"},
		{name: "loglevel", mutate: func(o *Options) { o.LogLevel = 9 }, wantErr: "--loglevel"},
		{name: "callback url", mutate: func(o *Options) { o.CallbackURL = "file:///x" }, wantErr: "invalid --callback-url"},
		{name: "volume with dockerfile", mutate: func(o *Options) { o.AsDockerfile = "x/"; o.Volumes = []sandbox.Mount{{Source: "/a", Target: "/b"}} }, wantErr: "cannot be used with --as-dockerfile"},
		{name: "inject with dockerfile", mutate: func(o *Options) { o.AsDockerfile = "x/"; o.Injections = []Injection{{"/a", "/b"}} }, wantErr: "--inject with --as-dockerfile"},
		{name: "network none and the rest", mutate: func(o *Options) {
			o.Network, o.CapDrop, o.AddHosts, o.Volumes = NetworkNone, []string{"ALL"}, []sandbox.HostEntry{{Name: "h", IP: "1.2.3.4"}}, []sandbox.Mount{{Source: "/a", Target: "/b", ReadOnly: true}}
		}},
		{
			name:    "every problem at once",
			mutate:  func(o *Options) { o.Tag = "Bad"; o.ContextDir = ".." },
			wantErr: "invalid TAG: invalid reference \"Bad\": invalid reference format: repository name must be lowercase\n--context-dir .. leaves the source",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.mutate(&o)
			err := o.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
