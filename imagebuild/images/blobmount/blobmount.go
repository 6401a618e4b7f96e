// Package blobmount asks a registry to mount blobs from one repository into
// another (the distribution spec's cross-repository mount), so that an image
// written on top of another one's layers never reads and sends them again:
// containers/image does this only for blobs its persistent cache has seen,
// which a static binary in a pod has none of.
package blobmount

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"
)

// Result says what became of each blob.
type Result struct {
	Present int // in the destination already, or mounted there now
	Missing int // to be sent by the write
}

// Mount makes each blob of from present in dst, which must be on the same
// registry, by a cross-repository mount where it is not there yet. The
// credentials are sys's for that registry; with sys's TLS verification
// off, plain HTTP is tried when HTTPS fails, as containers/image does.
func Mount(ctx context.Context, sys *types.SystemContext, dst, from reference.Named, blobs []digest.Digest) (Result, error) {
	registry := reference.Domain(dst)
	if reference.Domain(from) != registry {
		return Result{}, fmt.Errorf("mount from %s into %s: not the same registry", from.Name(), dst.Name())
	}
	c, err := newClient(ctx, sys, registry, reference.Path(dst), reference.Path(from))
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, d := range blobs {
		ok, err := c.present(ctx, d)
		if err == nil && !ok {
			ok, err = c.mount(ctx, d)
		}
		if err != nil {
			return res, err
		}
		if ok {
			res.Present++
		} else {
			res.Missing++
		}
	}
	return res, nil
}

// client talks to one registry for one destination and source repository.
type client struct {
	http      *http.Client
	base      string // scheme://host
	dst, from string // repository paths
	auth      string // the Authorization header, "" for none
}

func newClient(ctx context.Context, sys *types.SystemContext, registry, dst, from string) (*client, error) {
	insecure := sys != nil && sys.DockerInsecureSkipTLSVerify == types.OptionalBoolTrue
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // --tls-verify=false
	}
	c := &client{http: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, dst: dst, from: from}
	// Docker Hub's name is not its API host.
	host := registry
	if host == "docker.io" {
		host = "registry-1.docker.io"
	}
	var resp *http.Response
	var err error
	for _, scheme := range []string{"https", "http"} {
		c.base = scheme + "://" + host
		resp, err = c.do(ctx, http.MethodGet, "/v2/", "")
		if err == nil || !insecure {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", registry, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return c, nil
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return nil, fmt.Errorf("registry %s: /v2/ answered %s", registry, resp.Status)
	}
	creds, err := config.GetCredentials(sys, registry)
	if err != nil {
		return nil, fmt.Errorf("registry %s: credentials: %w", registry, err)
	}
	if err := c.authorize(ctx, resp.Header.Get("WWW-Authenticate"), creds); err != nil {
		return nil, fmt.Errorf("registry %s: %w", registry, err)
	}
	return c, nil
}

// authorize answers the registry's challenge: Basic with the credentials,
// or a Bearer token for push on dst and pull on from.
func (c *client) authorize(ctx context.Context, challenge string, creds types.DockerAuthConfig) error {
	scheme, params := parseChallenge(challenge)
	switch strings.ToLower(scheme) {
	case "basic":
		if creds.Username == "" {
			return errors.New("the registry asks for credentials and there are none")
		}
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(creds.Username, creds.Password)
		c.auth = req.Header.Get("Authorization")
		return nil
	case "bearer":
		return c.bearer(ctx, params, creds)
	}
	return fmt.Errorf("unsupported authentication challenge %q", scheme)
}

func (c *client) bearer(ctx context.Context, params map[string]string, creds types.DockerAuthConfig) error {
	realm, err := url.Parse(params["realm"])
	if err != nil || realm.Scheme == "" {
		return fmt.Errorf("token service: bad realm %q", params["realm"])
	}
	q := realm.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	q.Add("scope", "repository:"+c.dst+":pull,push")
	q.Add("scope", "repository:"+c.from+":pull")
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return fmt.Errorf("token service: %w", err)
	}
	if creds.Username != "" {
		req.SetBasicAuth(creds.Username, creds.Password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("token service: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token service: %s", resp.Status)
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tok); err != nil {
		return fmt.Errorf("token service: %w", err)
	}
	t := tok.Token
	if t == "" {
		t = tok.AccessToken
	}
	if t == "" {
		return errors.New("token service: no token in the answer")
	}
	c.auth = "Bearer " + t
	return nil
}

// parseChallenge splits a WWW-Authenticate value: scheme, then key="value"
// parameters.
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				params[k] = v[1:]
				break
			}
			params[k], rest = v[1:1+end], v[2+end:]
			continue
		}
		params[k], rest, _ = strings.Cut(v, ",")
	}
	return scheme, params
}

func (c *client) do(ctx context.Context, method, path, auth string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return c.http.Do(req)
}

// present reports whether dst has the blob.
func (c *client) present(ctx context.Context, d digest.Digest) (bool, error) {
	resp, err := c.do(ctx, http.MethodHead, "/v2/"+c.dst+"/blobs/"+d.String(), c.auth)
	if err != nil {
		return false, fmt.Errorf("check blob %s in %s: %w", d, c.dst, err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// mount asks for the blob to be mounted from from; a registry that cannot
// starts an upload instead, which is cancelled.
func (c *client) mount(ctx context.Context, d digest.Digest) (bool, error) {
	q := url.Values{"mount": {d.String()}, "from": {c.from}}
	resp, err := c.do(ctx, http.MethodPost, "/v2/"+c.dst+"/blobs/uploads/?"+q.Encode(), c.auth)
	if err != nil {
		return false, fmt.Errorf("mount blob %s into %s: %w", d, c.dst, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated:
		return true, nil
	case http.StatusAccepted:
		if loc := resp.Header.Get("Location"); loc != "" {
			c.cancel(ctx, loc)
		}
		return false, nil
	}
	return false, fmt.Errorf("mount blob %s into %s: %s", d, c.dst, resp.Status)
}

// cancel deletes an upload session the registry opened instead of a mount.
func (c *client) cancel(ctx context.Context, loc string) {
	u, err := url.Parse(loc)
	if err != nil {
		return
	}
	if !u.IsAbs() {
		u, err = url.Parse(c.base + loc)
		if err != nil {
			return
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u.String(), nil)
	if err != nil {
		return
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	if resp, err := c.http.Do(req); err == nil {
		resp.Body.Close()
	}
}
