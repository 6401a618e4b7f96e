package images

import (
	"strings"
	"testing"

	"go.podman.io/image/v5/types"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		ref, transport, wantErr string
	}{
		{ref: "oci:/tmp/layout:app", transport: "oci"},
		{ref: "oci-archive:/tmp/app.tar", transport: "oci-archive"},
		{ref: "docker-archive:/tmp/app.tar:localhost/app:1", transport: "docker-archive"},
		{ref: "docker://127.0.0.1:5000/app:latest", transport: "docker"},
		{ref: "dir:/tmp/app", transport: "dir"},
		{ref: "docker://Not//Valid", wantErr: "image reference"},
		{ref: "nosuch:/x", wantErr: "unknown transport"},
		{ref: "localhost/app", wantErr: "no transport"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			ref, err := ParseRef(tt.ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || ref.Transport().Name() != tt.transport {
				t.Fatalf("ParseRef = %v, %v; want transport %s", ref, err, tt.transport)
			}
		})
	}
}

func TestHasTransport(t *testing.T) {
	for ref, want := range map[string]bool{
		"oci:/x": true, "docker://x/y": true, "containers-storage:x": true,
		"localhost/app:1": false, "localhost:5000/app": false, "app": false, "docker-daemon:x": false,
	} {
		if got := hasTransport(ref); got != want {
			t.Errorf("hasTransport(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestImportName(t *testing.T) {
	a, _ := ParseRef("oci:/tmp/a:app")
	b, _ := ParseRef("oci:/tmp/b:app")
	d, _ := ParseRef("docker://quay.io/x/y:1")
	if importName(a) != importName(a) || importName(a) == importName(b) || !strings.HasPrefix(importName(a), "localhost/pys2i-import/oci:") {
		t.Errorf("import names: %s %s", importName(a), importName(b))
	}
	if importName(d) != "quay.io/x/y:1" {
		t.Errorf("importName(docker) = %s", importName(d))
	}
}

// Output references in other transports than the store need no store.
func TestOutputRefWithoutStore(t *testing.T) {
	im := New(Options{TLSVerify: true})
	for _, tag := range []string{"oci:/tmp/out:app", "docker://127.0.0.1:5000/app:1", "docker-archive:/tmp/x.tar"} {
		ref, err := im.OutputRef(tag)
		if err != nil || ref == nil {
			t.Errorf("OutputRef(%q) = %v, %v", tag, ref, err)
		}
	}
	if im.store != nil {
		t.Error("the store was opened")
	}
	if _, err := im.OutputRef("Not//Valid"); err == nil {
		t.Error("invalid name: no error")
	}
	if s := New(Options{}).SystemContext(); s.DockerInsecureSkipTLSVerify != types.OptionalBoolTrue || !s.OCIInsecureSkipTLSVerify {
		t.Errorf("TLS verification on with TLSVerify false: %+v", s)
	}
	if s := im.SystemContext(); s.DockerInsecureSkipTLSVerify != types.OptionalBoolFalse || s.OCIInsecureSkipTLSVerify {
		t.Errorf("TLS verification off with TLSVerify: %+v", s)
	}
}
