package registryapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// ManifestLimit is the largest manifest read: the size the distribution
// spec says registries should accept at least.
const ManifestLimit = 4 << 20

// Manifest is a manifest as the registry served it.
type Manifest struct {
	MediaType string // the Content-Type it was served with
	Digest    digest.Digest
	Body      []byte
}

// Descriptor describes the manifest for an index or a subject field.
func (m Manifest) Descriptor() v1.Descriptor {
	return v1.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: int64(len(m.Body))}
}

// GetManifest reads the manifest ref (a tag or a digest) of repo, asking
// for the accept media types; one read by digest is checked against it.
// A missing one is an error for which IsNotFound is true.
func (c *Client) GetManifest(ctx context.Context, repo, ref string, accept ...string) (Manifest, error) {
	op := fmt.Sprintf("read manifest %s:%s", repo, ref)
	h := http.Header{}
	if len(accept) > 0 {
		h.Set("Accept", strings.Join(accept, ", "))
	}
	resp, err := c.request(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, nil, h)
	if err != nil {
		return Manifest{}, c.errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Manifest{}, c.statusError(op, resp)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	want, err := digest.Parse(ref)
	if err != nil {
		want = "" // a tag: nothing to check against
	}
	m := Manifest{MediaType: mt}
	if m.Body, err = readChecked(resp.Body, want, ManifestLimit, c.errorf, op); err != nil {
		return Manifest{}, err
	}
	m.Digest = want
	if m.Digest == "" {
		m.Digest = digest.FromBytes(m.Body)
	}
	if m.MediaType == "" {
		// The body says what it is when the header does not.
		var probe struct {
			MediaType string `json:"mediaType"`
		}
		_ = json.Unmarshal(m.Body, &probe)
		m.MediaType = probe.MediaType
	}
	return m, nil
}

// PutManifest stores body as the manifest ref (a tag or its digest) of
// repo and returns its digest and the OCI-Subject header of the answer:
// the subject's digest when the registry handles referrers itself.
func (c *Client) PutManifest(ctx context.Context, repo, ref, mediaType string, body []byte) (digest.Digest, string, error) {
	d := digest.FromBytes(body)
	op := fmt.Sprintf("write manifest %s:%s", repo, ref)
	resp, err := c.request(ctx, http.MethodPut, "/v2/"+repo+"/manifests/"+ref, body, http.Header{"Content-Type": {mediaType}})
	if err != nil {
		return "", "", c.errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", "", c.statusError(op, resp)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != d.String() {
		return "", "", c.errorf("%s: the registry stored it as %s, not %s", op, got, d)
	}
	return d, resp.Header.Get("OCI-Subject"), nil
}

// Referrers asks the referrers API of repo for the manifests whose subject
// is d, filtered by artifactType when not "" (the registry may ignore the
// filter). ok is false when the registry has no referrers API: it answers
// 404, or 200 with something other than an image index.
func (c *Client) Referrers(ctx context.Context, repo string, d digest.Digest, artifactType string) (descs []v1.Descriptor, ok bool, err error) {
	op := fmt.Sprintf("list referrers of %s@%s", repo, d)
	if err := d.Validate(); err != nil {
		return nil, false, c.errorf("%s: %w", op, err)
	}
	target := "/v2/" + repo + "/referrers/" + d.String()
	if artifactType != "" {
		target += "?" + url.Values{"artifactType": {artifactType}}.Encode()
	}
	// The answer may come in pages, linked by Link: <next>; rel="next".
	for page := 0; target != ""; page++ {
		if page == 100 {
			return nil, false, c.errorf("%s: more than 100 pages", op)
		}
		resp, err := c.request(ctx, http.MethodGet, target, nil, http.Header{"Accept": {v1.MediaTypeImageIndex}})
		if err != nil {
			return nil, false, c.errorf("%s: %w", op, err)
		}
		idx, next, err := c.referrersPage(op, resp)
		resp.Body.Close()
		if err != nil {
			return nil, false, err
		}
		if idx == nil && page > 0 {
			return nil, false, c.errorf("%s: page %d of the list is not an image index", op, page+1)
		}
		if idx == nil {
			return nil, false, nil
		}
		descs = append(descs, idx.Manifests...)
		target = next
	}
	return descs, true, nil
}

// referrersPage reads one answer of the referrers API: nil without error
// for a registry that has none (404, or a 200 that is not an image index).
func (c *Client) referrersPage(op string, resp *http.Response) (*v1.Index, string, error) {
	if resp.StatusCode == http.StatusNotFound {
		return nil, "", nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", c.statusError(op, resp)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != v1.MediaTypeImageIndex {
		// Not the API (a catch-all page, say): clients such as
		// go-containerregistry's then read the referrers tag, so the
		// registry is taken as one without it.
		return nil, "", nil
	}
	var idx v1.Index
	if err := json.NewDecoder(io.LimitReader(resp.Body, ManifestLimit)).Decode(&idx); err != nil {
		return nil, "", c.errorf("%s: %w", op, err)
	}
	return &idx, nextLink(resp.Header.Get("Link")), nil
}

// nextLink is the target of a Link header's rel="next", "" for none.
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
			continue
		}
		return strings.Trim(strings.TrimSpace(target), "<>")
	}
	return ""
}
