package registryapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/opencontainers/go-digest"
)

// HasBlob reports whether repo has the blob.
func (c *Client) HasBlob(ctx context.Context, repo string, d digest.Digest) (bool, error) {
	op := fmt.Sprintf("check blob %s in %s", d, repo)
	resp, err := c.request(ctx, http.MethodHead, "/v2/"+repo+"/blobs/"+d.String(), nil, nil)
	if err != nil {
		return false, c.errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, c.statusError(op, resp)
}

// MountBlob asks for the blob to be mounted into repo from from (the
// spec's cross-repository mount) and reports whether it was; a registry
// that cannot starts an upload instead, which is cancelled.
func (c *Client) MountBlob(ctx context.Context, repo, from string, d digest.Digest) (bool, error) {
	op := fmt.Sprintf("mount blob %s into %s", d, repo)
	q := url.Values{"mount": {d.String()}, "from": {from}}
	resp, err := c.request(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/?"+q.Encode(), nil, nil)
	if err != nil {
		return false, c.errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated:
		return true, nil
	case http.StatusAccepted:
		if loc := resp.Header.Get("Location"); loc != "" {
			c.cancel(ctx, loc)
		}
		return false, nil
	}
	return false, c.statusError(op, resp)
}

// cancel deletes an upload session; a failure only leaves it to expire.
func (c *Client) cancel(ctx context.Context, loc string) {
	if u, err := c.resolve(loc); err == nil {
		if resp, err := c.request(ctx, http.MethodDelete, u.String(), nil, nil); err == nil {
			resp.Body.Close()
		}
	}
}

// resolve makes a Location the registry gave absolute.
func (c *Client) resolve(loc string) (*url.URL, error) {
	base, err := url.Parse(c.base + "/")
	if err != nil {
		return nil, err
	}
	u, err := base.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("bad upload location from the registry: %w", err)
	}
	return u, nil
}

// PutBlob uploads data into repo in one piece (POST, then PUT with the
// digest), unless repo has it already.
func (c *Client) PutBlob(ctx context.Context, repo string, data []byte) (digest.Digest, error) {
	d := digest.FromBytes(data)
	if ok, err := c.HasBlob(ctx, repo, d); err != nil || ok {
		return d, err
	}
	op := fmt.Sprintf("upload blob %s to %s", d, repo)
	resp, err := c.request(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil, nil)
	if err != nil {
		return "", c.errorf("%s: %w", op, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return "", c.statusError(op, resp)
	}
	u, err := c.resolve(resp.Header.Get("Location"))
	if err != nil {
		return "", c.errorf("%s: %w", op, err)
	}
	q := u.Query()
	q.Set("digest", d.String())
	u.RawQuery = q.Encode()
	resp, err = c.request(ctx, http.MethodPut, u.String(), data, http.Header{"Content-Type": {"application/octet-stream"}})
	if err != nil {
		return "", c.errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", c.statusError(op, resp)
	}
	return d, nil
}

// GetBlob reads a blob of repo, at most limit bytes, checked against its
// digest.
func (c *Client) GetBlob(ctx context.Context, repo string, d digest.Digest, limit int64) ([]byte, error) {
	op := fmt.Sprintf("read blob %s of %s", d, repo)
	if err := d.Validate(); err != nil {
		return nil, c.errorf("%s: %w", op, err)
	}
	resp, err := c.request(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+d.String(), nil, nil)
	if err != nil {
		return nil, c.errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, c.statusError(op, resp)
	}
	return readChecked(resp.Body, d, limit, c.errorf, op)
}

// readChecked reads at most limit bytes and checks them against d.
func readChecked(r io.Reader, d digest.Digest, limit int64, errorf func(string, ...any) error, op string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, errorf("%s: %w", op, err)
	}
	if int64(len(data)) > limit {
		return nil, errorf("%s: larger than %d bytes", op, limit)
	}
	if d == "" {
		return data, nil // nothing to check it against (a tag)
	}
	if got := d.Algorithm().FromBytes(data); got != d {
		return nil, errorf("%s: the content's digest is %s", op, got)
	}
	return data, nil
}
