package imagebuild

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLookupUser(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	passwd := "root:x:0:0:root:/root:/bin/sh\n# comment\ndefault:x:1001:0:app:/opt/app-root/src:/bin/sh\nweb:x:33:33::/var/www\n"
	group := "root:x:0:\nwww-data:x:33:\nstaff:x:50:\n"
	for name, body := range map[string]string{"etc/passwd": passwd, "etc/group": group} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		spec    string
		want    User
		wantErr string
	}{
		{spec: "", want: User{Home: "/root"}},
		{spec: "default", want: User{UID: 1001, GID: 0, Home: "/opt/app-root/src"}},
		{spec: "1001", want: User{UID: 1001, GID: 0, Home: "/opt/app-root/src"}},
		{spec: "web", want: User{UID: 33, GID: 33, Home: "/var/www"}},
		{spec: "12345", want: User{UID: 12345}},           // no entry: gid 0
		{spec: "12345:7", want: User{UID: 12345, GID: 7}}, // numeric group
		{spec: "web:staff", want: User{UID: 33, GID: 50, Home: "/var/www"}},
		{spec: "nobody", wantErr: `no user "nobody"`},
		{spec: "web:nogroup", wantErr: `no group "nogroup"`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := lookupUser(root, tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("lookupUser(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
			}
		})
	}
}

// A passwd that is a symlink out of the root is not followed to the host's.
func TestLookupUserStaysInRoot(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../etc/passwd", filepath.Join(root, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	if _, err := lookupUser(root, "root"); err == nil {
		t.Error("resolved a user through a symlink out of the root")
	}
}

func TestProcessEnv(t *testing.T) {
	tests := []struct {
		name         string
		image, build []string
		home         string
		want         []string
	}{
		{
			name:  "build env over the image's, HOME kept",
			image: []string{"PATH=/opt/bin:/usr/bin", "HOME=/opt/app-root/src", "A=1"},
			build: []string{"A=2", "B=3"},
			want:  []string{"PATH=/opt/bin:/usr/bin", "HOME=/opt/app-root/src", "A=2", "B=3"},
		},
		{
			name: "HOME and PATH added as a runtime does",
			home: "/var/www",
			want: []string{"HOME=/var/www", defaultPath},
		},
		{
			name: "no passwd entry: HOME=/",
			want: []string{"HOME=/", defaultPath},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := processEnv(tt.image, tt.build, tt.home); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("processEnv = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSandboxArtifact(t *testing.T) {
	for rel, want := range map[string]bool{
		"etc/hosts": true, "etc/resolv.conf": true, "dev/null": true, "proc/1": true,
		"dev": false, "etc/passwd": false, "opt/app-root/dev/x": false, "device": false,
	} {
		if got := sandboxArtifact(rel); got != want {
			t.Errorf("sandboxArtifact(%q) = %v, want %v", rel, got, want)
		}
	}
}
