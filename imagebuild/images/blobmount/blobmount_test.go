package blobmount

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/types"
)

// A registry with token authentication: the token is issued for the
// credentials of the auth file, and only a token that may pull from the
// source repository mounts; a blob it lacks starts an upload instead.
func TestMountWithBearerToken(t *testing.T) {
	has := digest.FromString("a layer the source repository has")
	lacks := digest.FromString("a layer nobody has")
	there := digest.FromString("a layer the destination has")
	var mu sync.Mutex
	var calls []string
	srv := httptest.NewServer(nil)
	defer srv.Close()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/token" {
			u, p, _ := r.BasicAuth()
			scopes := r.URL.Query()["scope"]
			if u != "me" || p != "s3cret" || !reflect.DeepEqual(scopes, []string{"repository:team/app:pull,push", "repository:team/builder:pull"}) {
				http.Error(w, "denied", http.StatusUnauthorized)
				return
			}
			w.Write([]byte(`{"token":"tok"}`))
			return
		}
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="test"`)
			http.Error(w, "auth", http.StatusUnauthorized)
			return
		}
		switch {
		case r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/"+there.String()):
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodHead:
			w.WriteHeader(http.StatusNotFound)
		case r.Method == http.MethodPost && r.URL.Query().Get("mount") == has.String() && r.URL.Query().Get("from") == "team/builder":
			w.WriteHeader(http.StatusCreated)
		case r.Method == http.MethodPost:
			w.Header().Set("Location", "/v2/team/app/blobs/uploads/session-1")
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "unexpected", http.StatusBadRequest)
		}
	})
	host := strings.TrimPrefix(srv.URL, "http://")
	authFile := filepath.Join(t.TempDir(), "auth.json")
	creds := base64.StdEncoding.EncodeToString([]byte("me:s3cret"))
	if err := os.WriteFile(authFile, []byte(`{"auths":{"`+host+`":{"auth":"`+creds+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sys := &types.SystemContext{AuthFilePath: authFile, DockerInsecureSkipTLSVerify: types.OptionalBoolTrue}
	dst, _ := reference.ParseNormalizedNamed(host + "/team/app")
	from, _ := reference.ParseNormalizedNamed(host + "/team/builder")
	res, err := Mount(context.Background(), sys, dst, from, []digest.Digest{has, lacks, there})
	if err != nil {
		t.Fatal(err)
	}
	if res != (Result{Present: 2, Missing: 1}) {
		t.Errorf("result %+v, want 2 present (one mounted, one there), 1 missing", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(calls, "DELETE /v2/team/app/blobs/uploads/session-1") {
		t.Errorf("the upload started instead of a mount was not cancelled: %q", calls)
	}
}

func TestMountRefusesOtherRegistry(t *testing.T) {
	dst, _ := reference.ParseNormalizedNamed("a.example/team/app")
	from, _ := reference.ParseNormalizedNamed("b.example/team/builder")
	if _, err := Mount(context.Background(), nil, dst, from, nil); err == nil || !strings.Contains(err.Error(), "not the same registry") {
		t.Errorf("err = %v", err)
	}
}
