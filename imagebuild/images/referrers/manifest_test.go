package referrers

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// The artifact types the build attaches (package sbom owns them).
const (
	SPDX      = "application/spdx+json"
	CycloneDX = "application/vnd.cyclonedx+json"
)

var testSubject = v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.FromString("an image manifest"), Size: 1234}

func TestArtifactManifest(t *testing.T) {
	doc := []byte(`{"spdxVersion":"SPDX-2.3"}`)
	a := Artifact{ArtifactType: SPDX, Data: doc, Annotations: map[string]string{"b": "2", "a": "1"}}
	// The caller's platform and annotations on the subject stay out.
	subj := testSubject
	subj.Annotations = map[string]string{"x": "y"}
	raw, err := artifactManifest(subj, a)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/spdx+json",` +
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},` +
		`"layers":[{"mediaType":"application/spdx+json","digest":"` + digest.FromBytes(doc).String() + `","size":26}],` +
		`"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + testSubject.Digest.String() + `","size":1234},` +
		`"annotations":{"a":"1","b":"2"}}`
	if string(raw) != want {
		t.Errorf("manifest\n%s\nwant\n%s", raw, want)
	}
	again, _ := artifactManifest(subj, Artifact{ArtifactType: SPDX, Data: doc, Annotations: map[string]string{"a": "1", "b": "2"}})
	if string(again) != string(raw) {
		t.Error("the same artifact gave other bytes")
	}
	noAnn, _ := artifactManifest(testSubject, Artifact{ArtifactType: SPDX, Data: doc, Annotations: map[string]string{}})
	if strings.Contains(string(noAnn), "annotations") {
		t.Errorf("empty annotations written: %s", noAnn)
	}
	d := referrerDescriptor(raw, a)
	if d.Digest != digest.FromBytes(raw) || d.Size != int64(len(raw)) || d.MediaType != v1.MediaTypeImageManifest || d.ArtifactType != SPDX || !reflect.DeepEqual(d.Annotations, a.Annotations) {
		t.Errorf("descriptor %+v", d)
	}
}

func TestChecks(t *testing.T) {
	for _, tt := range []struct {
		name    string
		subject v1.Descriptor
		art     Artifact
		want    string // in the error, "" for none
	}{
		{"fine", testSubject, Artifact{ArtifactType: CycloneDX, Data: []byte("{}")}, ""},
		{"no type", testSubject, Artifact{Data: []byte("{}")}, "not a media type"},
		{"parameters", testSubject, Artifact{ArtifactType: "application/json; charset=utf-8", Data: []byte("{}")}, "not a media type"},
		{"empty", testSubject, Artifact{ArtifactType: SPDX}, "no content"},
		{"no digest", v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Size: 3}, Artifact{ArtifactType: SPDX, Data: []byte("{}")}, "subject digest"},
		{"no size", v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: testSubject.Digest}, Artifact{ArtifactType: SPDX, Data: []byte("{}")}, "media type and size"},
	} {
		err := checkSubject(tt.subject)
		if err == nil {
			err = checkArtifact(tt.art)
		}
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestFallbackTag(t *testing.T) {
	for _, tt := range []struct {
		in   digest.Digest
		want string
	}{
		{"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
		{"sha512:" + digest.Digest(strings.Repeat("ab", 64)), "sha512-" + strings.Repeat("ab", 32)},
	} {
		if got := FallbackTag(tt.in); got != tt.want {
			t.Errorf("FallbackTag(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	a := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.FromString("a"), Size: 1, ArtifactType: SPDX}
	b := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.FromString("b"), Size: 1, ArtifactType: CycloneDX}
	other := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.FromString("signature"), Size: 1, ArtifactType: "application/vnd.dev.cosign.artifact.sig.v1+json"}
	for _, tt := range []struct {
		name    string
		have    []v1.Descriptor
		add     []v1.Descriptor
		want    []v1.Descriptor
		changed bool
	}{
		{"into empty", nil, []v1.Descriptor{a, b}, []v1.Descriptor{a, b}, true},
		{"others kept first", []v1.Descriptor{other}, []v1.Descriptor{a}, []v1.Descriptor{other, a}, true},
		{"again", []v1.Descriptor{other, a, b}, []v1.Descriptor{a, b}, []v1.Descriptor{other, a, b}, false},
		{"twice in one call", nil, []v1.Descriptor{a, a}, []v1.Descriptor{a}, true},
	} {
		idx := emptyIndex()
		idx.Manifests = append(idx.Manifests, tt.have...)
		changed := merge(&idx, tt.add)
		if changed != tt.changed || !reflect.DeepEqual(idx.Manifests, tt.want) {
			t.Errorf("%s: %v %v, want %v %v", tt.name, changed, idx.Manifests, tt.changed, tt.want)
		}
	}
}

func TestParseIndex(t *testing.T) {
	idx := emptyIndex()
	raw, _ := json.Marshal(idx)
	for _, tt := range []struct {
		name, mediaType, body, want string
	}{
		{"empty index", v1.MediaTypeImageIndex, string(raw), ""},
		{"a manifest", v1.MediaTypeImageManifest, `{"schemaVersion":2}`, "not an image index"},
		{"a docker list", v1.MediaTypeImageIndex, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json"}`, "not an image index"},
		{"garbage", v1.MediaTypeImageIndex, `<html>`, "not an image index"},
	} {
		_, err := parseIndex([]byte(tt.body), tt.mediaType)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
