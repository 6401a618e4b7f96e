package wheel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/pys2i/pys2i/internal/redact"
)

// Client reads PEP 503 (HTML) and PEP 691 (JSON) project pages and
// downloads files over HTTP(S), with pip's CA bundle, the trusted hosts'
// certificates unchecked, the proxies of the environment and the user info
// of each index URL.
type Client struct {
	HTTP    *http.Client
	Indexes []*url.URL // the index URL, then the extra ones
}

// NewClient builds a Client for pip's indexes; caBundle is the file pip
// verifies certificates with; trusted are --trusted-host entries.
func NewClient(indexes []string, trusted []string, caBundle string) (*Client, error) {
	c := &Client{}
	for _, s := range indexes {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("index URL %s: %w", redact.URL(s), err)
		}
		c.Indexes = append(c.Indexes, u)
	}
	roots := x509.NewCertPool()
	if caBundle != "" {
		pem, err := os.ReadFile(caBundle)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		roots.AppendCertsFromPEM(pem)
	}
	trust := map[string]bool{}
	for _, h := range trusted {
		trust[h] = true
		if host, _, err := net.SplitHostPort(h); err == nil {
			trust[host] = true
		}
	}
	base := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     &tls.Config{RootCAs: roots},
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	insecure := base.Clone()
	insecure.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // pip's --trusted-host
	c.HTTP = &http.Client{
		Transport: hostSwitch{base: base, insecure: insecure, trusted: trust},
		Timeout:   15 * time.Minute,
	}
	return c, nil
}

type hostSwitch struct {
	base, insecure http.RoundTripper
	trusted        map[string]bool
}

func (h hostSwitch) RoundTrip(r *http.Request) (*http.Response, error) {
	if h.trusted[r.URL.Host] || h.trusted[r.URL.Hostname()] {
		return h.insecure.RoundTrip(r)
	}
	return h.base.RoundTrip(r)
}

// acceptIndex is pip's Accept header for project pages.
const acceptIndex = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"

// Files lists what every index offers for a project (normalized name),
// in index order. A project an index does not know (404) has no files there.
func (c *Client) Files(ctx context.Context, project string) ([]File, error) {
	var all []File
	for _, idx := range c.Indexes {
		page := idx.JoinPath(project) // PEP 503: {index}/{normalized}/
		page.Path += "/"
		fs, err := c.page(ctx, idx, page)
		if err != nil {
			return nil, fmt.Errorf("index page for %s: %w", project, err)
		}
		all = append(all, fs...)
	}
	return all, nil
}

func (c *Client) page(ctx context.Context, idx, page *url.URL) ([]File, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, page.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", acceptIndex)
	req.Header.Set("Cache-Control", "max-age=0")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, redactErr(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", redact.URL(page.String()), resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, redactErr(err)
	}
	base := resp.Request.URL // after redirects
	var files []File
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/vnd.pypi.simple.v1+json") {
		files, err = parseJSONPage(body, base)
	} else {
		files, err = parseHTMLPage(string(body), base)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", redact.URL(page.String()), err)
	}
	// pip sends the index's credentials to the files on the same host.
	for i := range files {
		if u, err := url.Parse(files[i].URL); err == nil && u.User == nil && idx.User != nil && u.Host == idx.Host {
			u.User = idx.User
			files[i].URL = u.String()
		}
	}
	return files, nil
}

func redactErr(err error) error {
	return fmt.Errorf("%s", redact.URL(err.Error()))
}

func parseJSONPage(body []byte, base *url.URL) ([]File, error) {
	var page struct {
		Files []struct {
			Filename       string            `json:"filename"`
			URL            string            `json:"url"`
			Hashes         map[string]string `json:"hashes"`
			RequiresPython string            `json:"requires-python"`
			Yanked         any               `json:"yanked"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, err
	}
	var out []File
	for _, f := range page.Files {
		u, err := base.Parse(f.URL)
		if err != nil {
			continue
		}
		u.Fragment = ""
		y := false
		switch v := f.Yanked.(type) {
		case bool:
			y = v
		case string:
			y = true
		}
		out = append(out, File{Filename: f.Filename, URL: u.String(), SHA256: strings.ToLower(f.Hashes["sha256"]), RequiresPython: f.RequiresPython, Yanked: y})
	}
	return out, nil
}

var (
	anchorRE = regexp.MustCompile(`(?is)<a\s([^>]*)>`)
	attrRE   = regexp.MustCompile(`(?s)([A-Za-z_:][-A-Za-z0-9_:.]*)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?`)
	baseRE   = regexp.MustCompile(`(?is)<base\s([^>]*)>`)
)

// parseHTMLPage reads the anchors of a PEP 503 page: href (with a
// #sha256= fragment), data-requires-python, data-yanked.
func parseHTMLPage(body string, base *url.URL) ([]File, error) {
	if m := baseRE.FindStringSubmatch(body); m != nil {
		if href := attrs(m[1])["href"]; href != "" {
			if b, err := base.Parse(href); err == nil {
				base = b
			}
		}
	}
	var out []File
	for _, m := range anchorRE.FindAllStringSubmatch(body, -1) {
		a := attrs(m[1])
		href, ok := a["href"]
		if !ok {
			continue
		}
		u, err := base.Parse(href)
		if err != nil {
			continue
		}
		var sha string
		if frag, ok := strings.CutPrefix(u.Fragment, "sha256="); ok {
			sha = strings.ToLower(frag)
		}
		u.Fragment = ""
		name := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
		if un, err := url.PathUnescape(name); err == nil {
			name = un
		}
		_, yanked := a["data-yanked"]
		out = append(out, File{Filename: name, URL: u.String(), SHA256: sha, RequiresPython: a["data-requires-python"], Yanked: yanked})
	}
	return out, nil
}

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRE.FindAllStringSubmatch(s, -1) {
		v := m[2] + m[3] + m[4]
		out[strings.ToLower(m[1])] = html.UnescapeString(v)
	}
	return out
}
