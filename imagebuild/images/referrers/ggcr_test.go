package referrers_test

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	ggcrv1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"go.podman.io/image/v5/docker/reference"
	imgtypes "go.podman.io/image/v5/types"

	"github.com/pys2i/pys2i/imagebuild/images/referrers"
	"github.com/pys2i/pys2i/imagebuild/images/registryapi"
	"github.com/pys2i/pys2i/imagebuild/sbom"
)

// sboms are two documents as the build attaches them.
func sboms() []referrers.Artifact {
	return []referrers.Artifact{
		{ArtifactType: sbom.SPDXMediaType, Data: []byte(`{"spdxVersion":"SPDX-2.3","name":"app"}`),
			Annotations: map[string]string{"org.opencontainers.image.created": "2026-01-02T03:04:05Z"}},
		{ArtifactType: sbom.CycloneMediaType, Data: []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`)},
	}
}

// pushImage writes a small random OCI image as repo:latest with
// go-containerregistry's client and returns its manifest's descriptor.
func pushImage(t *testing.T, repo string) v1.Descriptor {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(mutate.ConfigMediaType(img, types.OCIConfigJSON), types.OCIManifestSchema1)
	ref, err := name.ParseReference(repo+":latest", name.Insecure)
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

// consumerReferrers is what go-containerregistry's remote.Referrers (the
// referrers API, else the referrers tag, as cosign reads them) finds:
// artifact type by manifest digest.
func consumerReferrers(t *testing.T, repo string, subject digest.Digest, opts ...remote.Option) map[string]string {
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
	found := map[string]string{}
	for _, m := range im.Manifests {
		found[m.Digest.String()] = m.ArtifactType
	}
	return found
}

// go-containerregistry's registry, with and without the referrers API:
// with it, the artifacts pushed with their subject are listed by the
// registry and no referrers tag is written; without, the tag lists them.
// Either way List, Fetch and a consumer (remote.Referrers) find them, and
// attaching again changes nothing.
func TestAttachGGCR(t *testing.T) {
	for _, api := range []bool{true, false} {
		t.Run(map[bool]string{true: "referrers API", false: "referrers tag"}[api], func(t *testing.T) {
			srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(api), registry.Logger(log.New(io.Discard, "", 0))))
			t.Cleanup(srv.Close)
			host := strings.TrimPrefix(srv.URL, "http://")
			repo := host + "/team/app"
			subject := pushImage(t, repo)
			ctx := context.Background()
			sys := &imgtypes.SystemContext{DockerInsecureSkipTLSVerify: imgtypes.OptionalBoolTrue}
			named, err := reference.ParseNormalizedNamed(repo)
			if err != nil {
				t.Fatal(err)
			}
			descs := checkAttach(t, sys, named, subject)

			c, err := registryapi.New(ctx, sys, host, registryapi.Pull("team/app"))
			if err != nil {
				t.Fatal(err)
			}
			tag, err := c.GetManifest(ctx, "team/app", referrers.FallbackTag(subject.Digest), v1.MediaTypeImageIndex)
			if api {
				if !registryapi.IsNotFound(err) {
					t.Errorf("referrers tag on a registry with the API: err = %v, want not found", err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				checkTagIndex(t, tag.Body, descs)
			}

			found := consumerReferrers(t, repo, subject.Digest)
			if len(found) != 2 {
				t.Fatalf("remote.Referrers found %v", found)
			}
			for _, d := range descs {
				at, ok := found[d.Digest.String()]
				if !ok {
					t.Errorf("remote.Referrers misses %s: %v", d.Digest, found)
				}
				// This registry's API (go-containerregistry v0.22)
				// reports the config's media type as artifactType, not
				// the manifest's artifactType as the spec says: List reads
				// the manifest for it, so the consumer's view is checked
				// on the manifest there.
				if !api && at != d.ArtifactType {
					t.Errorf("remote.Referrers: %s has artifactType %q, want %q", d.Digest, at, d.ArtifactType)
				}
				ref, _ := name.NewDigest(repo+"@"+d.Digest.String(), name.Insecure)
				got, err := remote.Get(ref)
				if err != nil {
					t.Fatal(err)
				}
				var m ggcrv1.Manifest
				if err := json.Unmarshal(got.Manifest, &m); err != nil {
					t.Fatal(err)
				}
				if m.ArtifactType != d.ArtifactType || m.Subject == nil || m.Subject.Digest.String() != subject.Digest.String() {
					t.Errorf("manifest %s: artifactType %q subject %v", d.Digest, m.ArtifactType, m.Subject)
				}
			}
		})
	}
}

// checkAttach attaches sboms() to subject twice and checks what List and
// Fetch find; it returns the descriptors.
func checkAttach(t *testing.T, sys *imgtypes.SystemContext, named reference.Named, subject v1.Descriptor) []v1.Descriptor {
	t.Helper()
	ctx := context.Background()
	arts := sboms()
	descs, err := referrers.Attach(ctx, sys, named, subject, arts)
	if err != nil {
		t.Fatal(err)
	}
	if len(descs) != 2 || descs[0].ArtifactType != sbom.SPDXMediaType || descs[1].ArtifactType != sbom.CycloneMediaType {
		t.Fatalf("descriptors %+v", descs)
	}
	again, err := referrers.Attach(ctx, sys, named, subject, sboms())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, descs) {
		t.Errorf("attached again: %+v, first %+v", again, descs)
	}
	all, err := referrers.List(ctx, sys, named, subject.Digest, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := byDigest(all); !reflect.DeepEqual(got, byDigest(descs)) {
		t.Errorf("List: %v, want %v", got, byDigest(descs))
	}
	spdx, err := referrers.List(ctx, sys, named, subject.Digest, sbom.SPDXMediaType)
	if err != nil {
		t.Fatal(err)
	}
	if len(spdx) != 1 || spdx[0].Digest != descs[0].Digest {
		t.Errorf("List(SPDX) = %+v, want %s alone", spdx, descs[0].Digest)
	}
	for _, d := range all {
		data, err := referrers.Fetch(ctx, sys, named, d)
		if err != nil {
			t.Fatal(err)
		}
		if want := arts[indexOf(descs, d.Digest)].Data; string(data) != string(want) {
			t.Errorf("Fetch %s: %s, want %s", d.Digest, data, want)
		}
	}
	return descs
}

// checkTagIndex checks a referrers tag's index: an OCI image index with
// the descriptors, once each.
func checkTagIndex(t *testing.T, raw []byte, descs []v1.Descriptor) {
	t.Helper()
	var idx v1.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	if idx.SchemaVersion != 2 || idx.MediaType != v1.MediaTypeImageIndex || !reflect.DeepEqual(idx.Manifests, descs) {
		t.Errorf("referrers tag index:\n%s\nwant the manifests %+v", raw, descs)
	}
}

func byDigest(ds []v1.Descriptor) map[digest.Digest]string {
	m := map[digest.Digest]string{}
	for _, d := range ds {
		m[d.Digest] = d.ArtifactType
	}
	return m
}

func indexOf(ds []v1.Descriptor, d digest.Digest) int {
	for i, e := range ds {
		if e.Digest == d {
			return i
		}
	}
	return -1
}
