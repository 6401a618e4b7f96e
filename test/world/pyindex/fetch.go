package pyindex

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// PipConfig is what the host's pip configuration says about where
// distributions come from.
type PipConfig struct {
	IndexURL string // pip's default when unset
	Cert     string // CA bundle; "" for the system's
}

// pipDefaultIndex is pip's own default index URL.
const pipDefaultIndex = "https://pypi.org/simple"

// ParsePipConfig reads `pip config list` output (key='value' lines); the
// environment (":env:") wins over the files, as in pip.
func ParsePipConfig(out string) PipConfig {
	c := PipConfig{IndexURL: pipDefaultIndex}
	rank := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `'"`)
		i := strings.LastIndex(k, ".")
		if i < 0 {
			continue
		}
		scope, name := k[:i], k[i+1:]
		r := 1
		if scope == ":env:" {
			r = 2
		}
		if r < rank[name] {
			continue
		}
		switch name {
		case "index-url":
			c.IndexURL, rank[name] = v, r
		case "cert":
			c.Cert, rank[name] = v, r
		}
	}
	return c
}

func readPipConfig(ctx context.Context, pip string) (PipConfig, error) {
	cmd := exec.CommandContext(ctx, pip, "config", "list")
	cmd.Env = hostPipEnv()
	out, err := cmd.Output()
	if err != nil {
		return PipConfig{}, fmt.Errorf("%s config list: %w", pip, err)
	}
	return ParsePipConfig(string(out)), nil
}

// HostPipConfig is the host's pip configuration (pip on PATH).
func HostPipConfig(ctx context.Context) (PipConfig, error) { return readPipConfig(ctx, "pip") }

// HTTPClient trusts the system's roots plus pip's CA bundle.
func HTTPClient(cert string) (*http.Client, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if cert != "" {
		pem, err := os.ReadFile(cert)
		if err != nil {
			return nil, fmt.Errorf("pip's CA bundle: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("pip's CA bundle %s holds no certificate", cert)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 10 * time.Minute}, nil
}

// FetchOptions of Fetch.
type FetchOptions struct {
	CacheDir string       // verified files by name; kept between builds
	Client   *http.Client // nil: the system's roots
	Log      io.Writer
}

// Fetch makes sure CacheDir holds every file of the lock with its locked
// sha256, downloading what is missing or differs, and returns each file's
// path. A download that fails or whose hash differs is an error naming the
// file; nothing unverified is left under its name.
func Fetch(ctx context.Context, l Lock, o FetchOptions) (map[string]string, error) {
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return nil, err
	}
	client := o.Client
	if client == nil {
		var err error
		if client, err = HTTPClient(""); err != nil {
			return nil, err
		}
	}
	paths := make(map[string]string, len(l.Files))
	var mu sync.Mutex
	errs := make([]error, len(l.Files))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, f := range l.Files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p := filepath.Join(o.CacheDir, f.Filename)
			if sum, err := fileSHA256(p); err == nil && sum == f.SHA256 {
				mu.Lock()
				paths[f.Filename] = p
				mu.Unlock()
				return
			}
			start := time.Now()
			n, err := download(ctx, client, f, p)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", f.Filename, err)
				return
			}
			if o.Log != nil {
				mu.Lock()
				fmt.Fprintf(o.Log, "downloaded %s (%.1f MB, %s)\n", f.Filename, float64(n)/1e6, time.Since(start).Round(time.Millisecond))
				mu.Unlock()
			}
			mu.Lock()
			paths[f.Filename] = p
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// download writes f's URL to dst through a temporary file that is renamed
// only once its sha256 is the locked one.
func download(ctx context.Context, client *http.Client, f LockedFile, dst string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("download %s: %s", f.URL, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".part-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", f.URL, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return 0, fmt.Errorf("sha256 is %s, the lock says %s (from %s)", got, f.SHA256, f.URL)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, err
	}
	return n, os.Rename(tmp.Name(), dst)
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
