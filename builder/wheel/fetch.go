package wheel

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/pys2i/pys2i/internal/redact"
)

// HashError is a downloaded file whose sha256 is not an allowed one.
type HashError struct {
	File, Got string
	Want      []string
}

func (e *HashError) Error() string {
	return fmt.Sprintf("hash mismatch for %s: got sha256:%s, the lock allows %v", e.File, e.Got, e.Want)
}

// Download fetches f into dir and checks its sha256 against allowed (hex
// digests). A short body (fewer bytes than Content-Length) or a hash not
// allowed is an error and leaves no file behind.
func (c *Client) Download(ctx context.Context, f File, dir string, allowed map[string]bool) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", f.Filename, redactErr(err))
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", f.Filename, redactErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download %s: GET %s: %s", f.Filename, redact.URL(f.URL), resp.Status)
	}
	out, err := os.CreateTemp(dir, "dl-*.whl")
	if err != nil {
		return "", fmt.Errorf("download %s: %w", f.Filename, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), resp.Body)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		os.Remove(out.Name())
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return "", fmt.Errorf("download %s: truncated after %d of %d bytes: %w", f.Filename, n, resp.ContentLength, err)
		}
		return "", fmt.Errorf("download %s: %w", f.Filename, redactErr(err))
	}
	got := hex.EncodeToString(h.Sum(nil))
	if !allowed[got] {
		os.Remove(out.Name())
		var want []string
		for k := range allowed {
			want = append(want, k)
		}
		return "", &HashError{File: f.Filename, Got: got, Want: want}
	}
	final := filepath.Join(dir, filepath.Base(f.Filename))
	if err := os.Rename(out.Name(), final); err != nil {
		os.Remove(out.Name())
		return "", fmt.Errorf("download %s: %w", f.Filename, err)
	}
	return final, nil
}
