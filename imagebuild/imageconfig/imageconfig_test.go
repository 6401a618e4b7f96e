package imageconfig

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/pys2i/pys2i/imagebuild/source"
)

func baseImage() v1.Image {
	img := v1.Image{
		Platform: v1.Platform{Architecture: "amd64", OS: "linux"},
		Config: v1.ImageConfig{
			User:         "1001",
			Entrypoint:   []string{"container-entrypoint"},
			Cmd:          []string{"/bin/sh"},
			Env:          []string{"PATH=/usr/bin:/bin", "APP_ROOT=/opt/app-root", "HOME=/opt/app-root/src"},
			WorkingDir:   "/opt/app-root/src",
			ExposedPorts: map[string]struct{}{"8080/tcp": {}},
			Labels: map[string]string{
				"io.openshift.s2i.scripts-url": "image:///usr/libexec/s2i",
				"io.k8s.display-name":          "Python 3.12",
				"summary":                      "builder",
			},
		},
		RootFS:  v1.RootFS{Type: "layers", DiffIDs: []digest.Digest{"sha256:aaaa"}},
		History: []v1.History{{CreatedBy: "base"}},
	}
	return img
}

func facts() Facts {
	return Facts{
		RunScript: "/usr/libexec/s2i/run",
		BuildEnv:  []string{"APP_ROOT=/override", "PIP_INDEX_URL=http://user:secret@127.0.0.1:8080/simple", "DEBUG=1"},
		Source: source.Info{
			Location:   "https://user:token@git.example.com/org/app.git",
			ContextDir: "web",
			Ref:        "main",
			Commit:     "0123456789abcdef0123456789abcdef01234567",
			Author:     "Ann <ann@example.com>",
			Date:       "Thu Nov 26 10:00:00 2026 +0000",
			Message:    "first",
		},
		BuilderName:   "localhost/pys2i/python:3.12",
		BuilderDigest: "sha256:bbbb",
		Tag:           "localhost/app:latest",
		Created:       time.Date(2026, 11, 26, 12, 0, 0, 0, time.FixedZone("x", 3600)),
	}
}

func TestBuild(t *testing.T) {
	base := baseImage()
	f := facts()
	got, ann, err := Build(base, f)
	if err != nil {
		t.Fatal(err)
	}
	cfg := got.Config
	if !reflect.DeepEqual(cfg.Cmd, []string{"/usr/libexec/s2i/run"}) {
		t.Errorf("Cmd = %q", cfg.Cmd)
	}
	if !reflect.DeepEqual(cfg.Entrypoint, []string{"container-entrypoint"}) || cfg.User != "1001" || cfg.WorkingDir != "/opt/app-root/src" {
		t.Errorf("Entrypoint/User/WorkingDir = %q %q %q", cfg.Entrypoint, cfg.User, cfg.WorkingDir)
	}
	wantEnv := []string{"PATH=/usr/bin:/bin", "APP_ROOT=/override", "HOME=/opt/app-root/src",
		"PIP_INDEX_URL=http://***@127.0.0.1:8080/simple", "DEBUG=1"}
	if !reflect.DeepEqual(cfg.Env, wantEnv) {
		t.Errorf("Env = %q\nwant  %q", cfg.Env, wantEnv)
	}
	wantLabels := map[string]string{
		"io.openshift.s2i.scripts-url":              "image:///usr/libexec/s2i",
		"summary":                                   "builder",
		"io.k8s.display-name":                       "localhost/app:latest",
		"io.openshift.s2i.build.image":              "localhost/pys2i/python:3.12",
		"io.openshift.s2i.build.commit.author":      "Ann <ann@example.com>",
		"io.openshift.s2i.build.commit.date":        "Thu Nov 26 10:00:00 2026 +0000",
		"io.openshift.s2i.build.commit.id":          "0123456789abcdef0123456789abcdef01234567",
		"io.openshift.s2i.build.commit.ref":         "main",
		"io.openshift.s2i.build.commit.message":     "first",
		"io.openshift.s2i.build.source-location":    "https://***@git.example.com/org/app.git",
		"io.openshift.s2i.build.source-context-dir": "web",
	}
	if !reflect.DeepEqual(cfg.Labels, wantLabels) {
		t.Errorf("Labels = %v\nwant %v", cfg.Labels, wantLabels)
	}
	wantAnn := map[string]string{
		"org.opencontainers.image.created":     "2026-11-26T11:00:00Z",
		"org.opencontainers.image.source":      "https://***@git.example.com/org/app.git",
		"org.opencontainers.image.revision":    "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.base.name":   "localhost/pys2i/python:3.12",
		"org.opencontainers.image.base.digest": "sha256:bbbb",
	}
	if !reflect.DeepEqual(ann, wantAnn) {
		t.Errorf("annotations = %v\nwant %v", ann, wantAnn)
	}
	if got.Created == nil || !got.Created.Equal(f.Created) || got.Created.Location() != time.UTC {
		t.Errorf("Created = %v", got.Created)
	}
	if got.Architecture != "amd64" || len(got.RootFS.DiffIDs) != 1 || len(got.History) != 1 {
		t.Errorf("platform/rootfs/history not kept: %+v", got)
	}
	// No credential anywhere in the config or annotations.
	all, _ := json.Marshal(struct {
		I v1.Image
		A map[string]string
	}{got, ann})
	for _, secret := range []string{"secret", "token"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("%q leaked into %s", secret, all)
		}
	}
	// Deterministic, and the base is not modified.
	again, _, _ := Build(base, f)
	b2, _ := json.Marshal(again)
	b1, _ := json.Marshal(got)
	if string(b1) != string(b2) {
		t.Error("two builds differ")
	}
	if !reflect.DeepEqual(base, baseImage()) {
		t.Error("Build modified its base")
	}
}

func TestBuildLabels(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Facts)
		want    map[string]string // labels that must have these values ("" = absent)
		wantErr string
	}{
		{
			name: "local copy: no commit labels; app name and description",
			mutate: func(f *Facts) {
				*f = Facts{RunScript: "/tmp/scripts/run", Source: source.Info{Location: "/src/app"}, Tag: "t", AppName: "My App", Description: "d"}
			},
			want: map[string]string{"io.k8s.display-name": "My App", "io.k8s.description": "d", "io.openshift.s2i.build.commit.id": "",
				"io.openshift.s2i.build.source-location": "/src/app", "io.openshift.s2i.build.source-context-dir": ""},
		},
		{
			name:   "no tag, no name: the builder's display name stays",
			mutate: func(f *Facts) { f.Tag = "" },
			want:   map[string]string{"io.k8s.display-name": "Python 3.12"},
		},
		{
			name: "extra labels, then image_metadata.json wins",
			mutate: func(f *Facts) {
				f.ExtraLabels = map[string]string{"a": "extra", "b": "extra"}
				f.Metadata = []byte(`{"labels":[{"a":"meta"},{"io.k8s.display-name":"from assemble","url":"https://u:p@h/"}],"other":1}`)
			},
			want: map[string]string{"a": "meta", "b": "extra", "io.k8s.display-name": "from assemble", "url": "https://***@h/"},
		},
		{name: "metadata without labels", mutate: func(f *Facts) { f.Metadata = []byte(`{}`) }, want: map[string]string{"summary": "builder"}},
		{name: "metadata not JSON", mutate: func(f *Facts) { f.Metadata = []byte(`labels: x`) }, wantErr: "image_metadata.json"},
		{name: "labels not a list", mutate: func(f *Facts) { f.Metadata = []byte(`{"labels":{"a":"b"}}`) }, wantErr: "must be a list"},
		{name: "label value not a string", mutate: func(f *Facts) { f.Metadata = []byte(`{"labels":[{"a":1}]}`) }, wantErr: "must be a list"},
		{name: "empty label name", mutate: func(f *Facts) { f.Metadata = []byte(`{"labels":[{"":"x"}]}`) }, wantErr: "empty label name"},
		{
			name: "over 10 KB of labels",
			mutate: func(f *Facts) {
				f.Metadata = []byte(`{"labels":[{"big":"` + strings.Repeat("x", MaxLabelBytes) + `"}]}`)
			},
			wantErr: "more than the limit of 10240",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := facts()
			tt.mutate(&f)
			got, _, err := Build(baseImage(), f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if got.Config.Labels[k] != v {
					t.Errorf("label %s = %q, want %q", k, got.Config.Labels[k], v)
				}
			}
		})
	}
}
