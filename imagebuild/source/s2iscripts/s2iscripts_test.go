package s2iscripts

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/internal/exitcode"
)

func TestLocate(t *testing.T) {
	hostFiles := map[string]bool{"/host/s/assemble": true, "/host/s/run": true, "rel/run": true}
	exists := func(p string) bool { return hostFiles[p] }
	all := []string{Assemble, Run, SaveArtifacts}
	req := []string{Assemble, Run}
	img := func(p string) Script { return Script{ImagePath: p} }
	tests := []struct {
		name    string
		in      Input
		names   []string          // all if nil
		want    map[string]Script // Name and Origin are filled in by the test
		origin  map[string]Origin
		warn    int
		wantErr string
		code    int
	}{
		{
			name:   "nothing given: the default image dir",
			in:     Input{},
			want:   map[string]Script{Assemble: img("/usr/libexec/s2i/assemble"), Run: img("/usr/libexec/s2i/run"), SaveArtifacts: img("/usr/libexec/s2i/save-artifacts")},
			origin: map[string]Origin{Assemble: FromDefault, Run: FromDefault, SaveArtifacts: FromDefault},
		},
		{
			name: "label, source overrides one",
			in: Input{Labels: map[string]string{LabelScriptsURL: "image:///opt/s2i/"},
				SourceScripts: map[string]string{Assemble: ".s2i/bin/assemble"}},
			want:   map[string]Script{Assemble: {HostPath: ".s2i/bin/assemble"}, Run: img("/opt/s2i/run"), SaveArtifacts: img("/opt/s2i/save-artifacts")},
			origin: map[string]Origin{Assemble: FromSource, Run: FromLabel, SaveArtifacts: FromLabel},
		},
		{
			name: "--scripts-url image:// beats the source",
			in: Input{ScriptsURL: "image:///x", Labels: map[string]string{LabelScriptsURL: "image:///opt/s2i"},
				SourceScripts: map[string]string{Assemble: ".s2i/bin/assemble"}},
			want:   map[string]Script{Assemble: img("/x/assemble"), Run: img("/x/run"), SaveArtifacts: img("/x/save-artifacts")},
			origin: map[string]Origin{Assemble: FromScriptsURL, Run: FromScriptsURL, SaveArtifacts: FromScriptsURL},
		},
		{
			name: "--scripts-url file:// per script, then the source, then the label",
			in: Input{ScriptsURL: "file:///host/s", Labels: map[string]string{LabelScriptsURLDeprecated: "image:///old"},
				SourceScripts: map[string]string{Run: ".s2i/bin/run", SaveArtifacts: ".sti/bin/save-artifacts"}, HostFileExists: exists},
			want:   map[string]Script{Assemble: {HostPath: "/host/s/assemble"}, Run: {HostPath: "/host/s/run"}, SaveArtifacts: {HostPath: ".sti/bin/save-artifacts"}},
			origin: map[string]Origin{Assemble: FromScriptsURL, Run: FromScriptsURL, SaveArtifacts: FromSource},
			warn:   2, // deprecated label, deprecated .sti
		},
		{
			name:   "relative file://",
			in:     Input{ScriptsURL: "file://rel", HostFileExists: exists},
			names:  req,
			want:   map[string]Script{Assemble: img("/usr/libexec/s2i/assemble"), Run: {HostPath: "rel/run"}},
			origin: map[string]Origin{Assemble: FromDefault, Run: FromScriptsURL},
		},
		{
			name:   "STI_SCRIPTS_URL in the image env",
			in:     Input{ImageEnv: []string{"PATH=/bin", "STI_SCRIPTS_URL=image:///sti"}},
			names:  req,
			want:   map[string]Script{Assemble: img("/sti/assemble"), Run: img("/sti/run")},
			origin: map[string]Origin{Assemble: FromLabel, Run: FromLabel},
			warn:   1,
		},
		{
			name:    "--scripts-url with nothing in it",
			in:      Input{ScriptsURL: "file:///empty", HostFileExists: exists},
			wantErr: "could not find any scripts at --scripts-url file:///empty",
			code:    1,
		},
		{
			name:    "required script missing",
			in:      Input{ImageScriptsURL: "file:///host/none", HostFileExists: exists},
			wantErr: "failed to install [assemble run]",
			code:    exitcode.InstallRequired,
		},
		{
			name:    "http is refused, credentials masked",
			in:      Input{ScriptsURL: "https://u:pw@example.com/s2i"},
			wantErr: "--scripts-url: scripts URL https://***@example.com/s2i: downloading scripts over https is not supported",
			code:    exitcode.URLHandler,
		},
		{
			name:    "label with an unknown scheme",
			in:      Input{Labels: map[string]string{LabelScriptsURL: "ftp://x"}},
			wantErr: "label io.openshift.s2i.scripts-url: no URL handler for ftp://x",
			code:    exitcode.URLHandler,
		},
		{
			name:    "no scheme",
			in:      Input{ScriptsURL: "/usr/libexec/s2i"},
			wantErr: "has no scheme",
			code:    exitcode.URLHandler,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := tt.names
			if names == nil {
				names = all
			}
			got, warn, err := Locate(tt.in, names, req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if c := exitcode.Of(err); c != tt.code {
					t.Errorf("exit code %d, want %d", c, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, s := range tt.want {
				s.Name, s.Origin = name, tt.origin[name]
				tt.want[name] = s
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if len(warn) != tt.warn {
				t.Errorf("warnings %q, want %d", warn, tt.warn)
			}
		})
	}
}

func TestScriptPathIn(t *testing.T) {
	if p := (Script{Name: Run, ImagePath: "/usr/libexec/s2i/run"}).PathIn("/tmp"); p != "/usr/libexec/s2i/run" {
		t.Errorf("image script: %s", p)
	}
	if p := (Script{Name: Run, HostPath: ".s2i/bin/run"}).PathIn("/opt/dest"); p != "/opt/dest/scripts/run" {
		t.Errorf("external script: %s", p)
	}
}

func TestDestination(t *testing.T) {
	tests := []struct {
		flag   string
		labels map[string]string
		env    []string
		want   string
	}{
		{"", nil, nil, "/tmp"},
		{"/flag", map[string]string{LabelDestination: "/label"}, nil, "/flag"},
		{"", map[string]string{LabelDestination: "/label", LabelDestinationOld: "/old"}, nil, "/label"},
		{"", map[string]string{LabelDestinationOld: "/old"}, []string{"STI_LOCATION=/env"}, "/old"},
		{"", nil, []string{"STI_LOCATION=/env"}, "/env"},
	}
	for _, tt := range tests {
		if got := Destination(tt.flag, tt.labels, tt.env); got != tt.want {
			t.Errorf("Destination(%q, %v, %v) = %q, want %q", tt.flag, tt.labels, tt.env, got, tt.want)
		}
	}
}

func TestListSource(t *testing.T) {
	src, outside := t.TempDir(), t.TempDir()
	for _, f := range []string{".s2i/bin/assemble", ".sti/bin/assemble", ".sti/bin/run", filepath.Join(outside, "bin/save-artifacts")} {
		p := f
		if !filepath.IsAbs(f) {
			p = filepath.Join(src, f)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A link to a file outside and a subdirectory are not scripts.
	if err := os.Symlink(filepath.Join(outside, "bin/save-artifacts"), filepath.Join(src, ".s2i/bin/save-artifacts")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(src, ".s2i/bin/usage"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := ListSource(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{Assemble: ".s2i/bin/assemble", Run: ".sti/bin/run"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListSource = %v, want %v", got, want)
	}

	// A .s2i/bin that is a symlink is not followed.
	src2 := t.TempDir()
	if err := os.Mkdir(filepath.Join(src2, ".s2i"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "bin"), filepath.Join(src2, ".s2i/bin")); err != nil {
		t.Fatal(err)
	}
	if got, err := ListSource(src2); err != nil || len(got) != 0 {
		t.Errorf("ListSource through a symlink = %v, %v; want nothing", got, err)
	}
}
