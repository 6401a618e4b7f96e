// Package registryapi is a small client of the OCI distribution spec's HTTP
// API, for what containers/image does not offer: cross-repository mounts,
// manifests with a subject and the referrers API. It owns the registry
// authentication of those requests (sys's credentials, Basic or a Bearer
// token) and never puts a credential in an error.
package registryapi

import (
	"bytes"
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

	"github.com/pys2i/pys2i/internal/redact"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"
)

// Client talks to one registry with the access its scopes asked for.
type Client struct {
	http     *http.Client
	registry string // as in image references: host[:port]
	base     string // scheme://host of the API
	auth     string // the Authorization header, "" for none
}

// Pull and Push are the token scopes of a repository path, for New.
func Pull(repo string) string { return "repository:" + repo + ":pull" }

// Push asks for pull and push on the repository.
func Push(repo string) string { return "repository:" + repo + ":pull,push" }

// New connects to registry (host[:port] as in image references) and
// answers its authentication challenge with sys's credentials: Basic, or
// a Bearer token for scopes (Pull, Push). With sys's TLS verification off,
// plain HTTP is tried when HTTPS fails, as containers/image does.
func New(ctx context.Context, sys *types.SystemContext, registry string, scopes ...string) (*Client, error) {
	insecure := sys != nil && sys.DockerInsecureSkipTLSVerify == types.OptionalBoolTrue
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // --tls-verify=false
	}
	c := &Client{http: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, registry: registry}
	// Docker Hub's name is not its API host.
	host := registry
	if host == "docker.io" {
		host = "registry-1.docker.io"
	}
	var resp *http.Response
	var err error
	for _, scheme := range []string{"https", "http"} {
		c.base = scheme + "://" + host
		resp, err = c.ping(ctx)
		if err == nil || !insecure {
			break
		}
	}
	if err != nil {
		return nil, c.errorf("%w", err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return c, nil
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return nil, c.errorf("/v2/ answered %s", resp.Status)
	}
	creds, err := config.GetCredentials(sys, registry)
	if err != nil {
		return nil, c.errorf("credentials: %w", err)
	}
	basic, err := c.authorize(ctx, resp.Header.Get("WWW-Authenticate"), creds, scopes)
	if err != nil {
		return nil, c.errorf("%w", err)
	}
	if basic {
		// A wrong password is said here, once, rather than as a 401 on
		// whatever request comes first.
		resp, err := c.ping(ctx)
		if err != nil {
			return nil, c.errorf("%w", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			return nil, c.errorf("the credentials for it were refused: %s", resp.Status)
		}
	}
	return c, nil
}

// Registry is the registry's name as given to New.
func (c *Client) Registry() string { return c.registry }

func (c *Client) ping(ctx context.Context) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v2/", nil)
	if err != nil {
		return nil, err
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	return c.send(req)
}

// errorf is an error naming the registry.
func (c *Client) errorf(format string, args ...any) error {
	return fmt.Errorf("registry %s: "+format, append([]any{c.registry}, args...)...)
}

// send does req; a transport error's URL never carries user info (ours
// have none, but a Location or realm from the registry might).
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, errors.New(redact.URL(err.Error()))
	}
	return resp, nil
}

// authorize answers the registry's challenge: Basic with the credentials
// (reported true, to be checked), or a Bearer token for scopes.
func (c *Client) authorize(ctx context.Context, challenge string, creds types.DockerAuthConfig, scopes []string) (bool, error) {
	scheme, params := ParseChallenge(challenge)
	switch strings.ToLower(scheme) {
	case "basic":
		if creds.Username == "" {
			return false, errors.New("the registry asks for credentials and there are none")
		}
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(creds.Username, creds.Password)
		c.auth = req.Header.Get("Authorization")
		return true, nil
	case "bearer":
		return false, c.bearer(ctx, params, creds, scopes)
	}
	return false, fmt.Errorf("unsupported authentication challenge %q", scheme)
}

func (c *Client) bearer(ctx context.Context, params map[string]string, creds types.DockerAuthConfig, scopes []string) error {
	realm, err := url.Parse(params["realm"])
	if err != nil || realm.Scheme == "" {
		return fmt.Errorf("token service: bad realm %q", redact.URL(params["realm"]))
	}
	q := realm.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	for _, s := range scopes {
		q.Add("scope", s)
	}
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return fmt.Errorf("token service: %w", err)
	}
	if creds.Username != "" {
		req.SetBasicAuth(creds.Username, creds.Password)
	}
	resp, err := c.send(req)
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

// ParseChallenge splits a WWW-Authenticate value: scheme, then key="value"
// parameters.
func ParseChallenge(h string) (string, map[string]string) {
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

// request is one API call: a path under the registry (or an absolute URL
// the registry gave), with our authorization.
func (c *Client) request(ctx context.Context, method, target string, body []byte, header http.Header) (*http.Response, error) {
	u := target
	if !strings.Contains(target, "://") {
		u = c.base + target
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = int64(len(body))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	return c.send(req)
}

// StatusError is a registry's unexpected answer.
type StatusError struct {
	Op     string // what was asked, naming the repository and object
	Status int
	Detail string // the registry's error codes and messages, if it gave any
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// IsNotFound reports whether err is a registry's 404.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == http.StatusNotFound
}

// statusError reads the registry's error body (the spec's
// {"errors":[{"code","message"}]}) into a StatusError.
func (c *Client) statusError(op string, resp *http.Response) error {
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var parts []string
	if json.Unmarshal(raw, &body) == nil {
		for _, e := range body.Errors {
			parts = append(parts, strings.TrimSpace(e.Code+" "+e.Message))
		}
	}
	return &StatusError{Op: fmt.Sprintf("registry %s: %s", c.registry, op), Status: resp.StatusCode, Detail: redact.URL(strings.Join(parts, "; "))}
}
