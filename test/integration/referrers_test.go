package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	imgtypes "go.podman.io/image/v5/types"

	"github.com/pys2i/pys2i/imagebuild/images/referrers"
	"github.com/pys2i/pys2i/imagebuild/sbom"
)

// referrersSBOMs are two documents as the build attaches them.
func referrersSBOMs() []referrers.Artifact {
	return []referrers.Artifact{
		{ArtifactType: sbom.SPDXMediaType, Data: []byte(`{"spdxVersion":"SPDX-2.3","name":"app"}`),
			Annotations: map[string]string{"org.opencontainers.image.created": "2026-01-02T03:04:05Z"}},
		{ArtifactType: sbom.CycloneMediaType, Data: []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`)},
	}
}

// referrersPush writes a small OCI image as repo:latest straight into the
// world's registry (go-containerregistry's client) and returns its
// manifest's descriptor: the subject.
func referrersPush(t *testing.T, repo string) v1.Descriptor {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(mutate.ConfigMediaType(img, types.OCIConfigJSON), types.OCIManifestSchema1)
	ref, err := name.ParseReference(w.Registry.URL+"/"+repo+":latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
}

// referrersGet is a plain GET on the world's registry: status, media
// type, body.
func referrersGet(t *testing.T, path, accept string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+w.Registry.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return resp.StatusCode, mt, body
}

// referrersConsumer is what go-containerregistry's remote.Referrers (the
// referrers API, else the referrers tag, as cosign reads them) finds:
// artifact type by manifest digest.
func referrersConsumer(t *testing.T, repo string, subject digest.Digest, opts ...remote.Option) map[digest.Digest]string {
	t.Helper()
	d, err := name.NewDigest(repo+"@"+subject.String(), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Referrers(d, opts...)
	if err != nil {
		t.Fatalf("remote.Referrers: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	found := map[digest.Digest]string{}
	for _, m := range im.Manifests {
		found[digest.Digest(m.Digest.String())] = m.ArtifactType
	}
	return found
}

func referrersByDigest(ds []v1.Descriptor) map[digest.Digest]string {
	m := map[digest.Digest]string{}
	for _, d := range ds {
		m[d.Digest] = d.ArtifactType
	}
	return m
}

// The world's registry (distribution 2.8) has no referrers API: Attach
// keeps the list in the referrers tag, sha256-<hex>, an OCI index with each
// artifact once, in the order attached; List, Fetch and a consumer find
// them there.
func TestReferrersTagFallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := "pys2i-test/referrers-tag"
	subject := referrersPush(t, path)
	repo := w.Registry.URL + "/" + path
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		t.Fatal(err)
	}
	sys := &imgtypes.SystemContext{DockerInsecureSkipTLSVerify: imgtypes.OptionalBoolTrue}

	if code, _, _ := referrersGet(t, "/v2/"+path+"/referrers/"+subject.Digest.String(), v1.MediaTypeImageIndex); code != http.StatusNotFound {
		t.Fatalf("the world's registry answers %d for the referrers API, the test wants one without (404)", code)
	}
	tagPath := "/v2/" + path + "/manifests/" + referrers.FallbackTag(subject.Digest)
	if code, _, _ := referrersGet(t, tagPath, v1.MediaTypeImageIndex); code != http.StatusNotFound {
		t.Fatalf("referrers tag before any attach: %d", code)
	}

	arts := referrersSBOMs()
	descs, err := referrers.Attach(ctx, sys, named, subject, arts)
	if err != nil {
		t.Fatal(err)
	}
	if len(descs) != 2 || descs[0].ArtifactType != sbom.SPDXMediaType || descs[1].ArtifactType != sbom.CycloneMediaType ||
		descs[0].Annotations["org.opencontainers.image.created"] != "2026-01-02T03:04:05Z" || descs[1].Annotations != nil {
		t.Fatalf("descriptors %+v", descs)
	}
	again, err := referrers.Attach(ctx, sys, named, subject, referrersSBOMs())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, descs) {
		t.Errorf("attached again: %+v, first %+v", again, descs)
	}

	// The tag, read without our client: an OCI image index of the two.
	checkTag := func(want []v1.Descriptor) {
		t.Helper()
		code, mt, body := referrersGet(t, tagPath, v1.MediaTypeImageIndex)
		var idx v1.Index
		if code != http.StatusOK || mt != v1.MediaTypeImageIndex || json.Unmarshal(body, &idx) != nil {
			t.Fatalf("referrers tag: %d %s\n%s", code, mt, body)
		}
		if idx.SchemaVersion != 2 || idx.MediaType != v1.MediaTypeImageIndex || !reflect.DeepEqual(idx.Manifests, want) {
			t.Errorf("referrers tag index:\n%s\nwant the manifests %+v", body, want)
		}
		for _, d := range want {
			code, mt, raw := referrersGet(t, "/v2/"+path+"/manifests/"+d.Digest.String(), v1.MediaTypeImageManifest)
			var m v1.Manifest
			if code != http.StatusOK || mt != d.MediaType || int64(len(raw)) != d.Size || json.Unmarshal(raw, &m) != nil {
				t.Fatalf("manifest %s: %d %s %d bytes", d.Digest, code, mt, len(raw))
			}
			if m.ArtifactType != d.ArtifactType || m.Config.MediaType != v1.MediaTypeEmptyJSON || len(m.Layers) != 1 ||
				m.Layers[0].MediaType != d.ArtifactType || m.Subject == nil || !reflect.DeepEqual(*m.Subject, subject) {
				t.Errorf("manifest %s:\n%s", d.Digest, raw)
			}
		}
	}
	checkTag(descs)

	all, err := referrers.List(ctx, sys, named, subject.Digest, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(all, descs) {
		t.Errorf("List: %+v, want %+v", all, descs)
	}
	cdx, err := referrers.List(ctx, sys, named, subject.Digest, sbom.CycloneMediaType)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cdx, descs[1:]) {
		t.Errorf("List(CycloneDX): %+v, want %+v", cdx, descs[1:])
	}
	for i, d := range descs {
		data, err := referrers.Fetch(ctx, sys, named, d)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != string(arts[i].Data) {
			t.Errorf("Fetch %s: %s, want %s", d.Digest, data, arts[i].Data)
		}
	}

	// A later document joins the list; the first two stay, in place.
	newer := referrers.Artifact{ArtifactType: sbom.SPDXMediaType, Data: []byte(`{"spdxVersion":"SPDX-2.3","name":"app v2"}`)}
	more, err := referrers.Attach(ctx, sys, named, subject, []referrers.Artifact{newer})
	if err != nil {
		t.Fatal(err)
	}
	descs = append(descs, more...)
	checkTag(descs)

	if found, want := referrersConsumer(t, repo, subject.Digest), referrersByDigest(descs); !reflect.DeepEqual(found, want) {
		t.Errorf("remote.Referrers found %v, want %v", found, want)
	}
	if found, want := referrersConsumer(t, repo, subject.Digest, remote.WithFilter("artifactType", sbom.SPDXMediaType)), referrersByDigest([]v1.Descriptor{descs[0], descs[2]}); !reflect.DeepEqual(found, want) {
		t.Errorf("remote.Referrers of SPDX found %v, want %v", found, want)
	}
}

// A registry that wants a password (the authenticating proxy in front of
// the world's registry, Basic): the auth file's credentials attach, list
// and fetch; a wrong password is a clear error that does not carry it.
func TestReferrersBasicAuth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const user, password = "sbomuser", "sb0m-pw"
	_, host := registryProxy(t, user, password)
	path := "pys2i-test/referrers-auth"
	subject := referrersPush(t, path)
	repo := host + "/" + path
	named, err := reference.ParseNormalizedNamed(repo)
	if err != nil {
		t.Fatal(err)
	}
	authFile := func(pw string) *imgtypes.SystemContext {
		f := filepath.Join(t.TempDir(), "auth.json")
		creds := base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
		if err := os.WriteFile(f, []byte(`{"auths":{"`+host+`":{"auth":"`+creds+`"}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return &imgtypes.SystemContext{AuthFilePath: f, DockerInsecureSkipTLSVerify: imgtypes.OptionalBoolTrue}
	}

	sys := authFile(password)
	descs, err := referrers.Attach(ctx, sys, named, subject, referrersSBOMs())
	if err != nil {
		t.Fatal(err)
	}
	all, err := referrers.List(ctx, sys, named, subject.Digest, "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(all, descs) {
		t.Errorf("List: %+v, want %+v", all, descs)
	}
	if data, err := referrers.Fetch(ctx, sys, named, descs[0]); err != nil || string(data) != string(referrersSBOMs()[0].Data) {
		t.Errorf("Fetch: %q, %v", data, err)
	}
	basic := remote.WithAuth(&authn.Basic{Username: user, Password: password})
	if found, want := referrersConsumer(t, repo, subject.Digest, basic), referrersByDigest(descs); !reflect.DeepEqual(found, want) {
		t.Errorf("remote.Referrers found %v, want %v", found, want)
	}

	const wrong = "not-the-pw-42"
	for _, tt := range []struct {
		name string
		sys  *imgtypes.SystemContext
		want string
	}{
		{"wrong password", authFile(wrong), "credentials for it were refused"},
		{"no credentials", &imgtypes.SystemContext{AuthFilePath: filepath.Join(t.TempDir(), "none.json"), DockerInsecureSkipTLSVerify: imgtypes.OptionalBoolTrue}, "there are none"},
	} {
		_, err := referrers.Attach(ctx, tt.sys, named, subject, referrersSBOMs())
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), host) {
			t.Errorf("%s: Attach err = %v, want %q naming %s", tt.name, err, tt.want, host)
			continue
		}
		secret := base64.StdEncoding.EncodeToString([]byte(user + ":" + wrong))
		if strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error carries the password: %v", tt.name, err)
		}
		t.Logf("%s: %v", tt.name, err)
		if _, err := referrers.List(ctx, tt.sys, named, subject.Digest, ""); err == nil || strings.Contains(err.Error(), wrong) {
			t.Errorf("%s: List err = %v", tt.name, err)
		}
	}
}
