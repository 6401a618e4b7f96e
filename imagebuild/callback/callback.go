// Package callback reports a build's result to --callback-url as s2i does:
// an HTTP POST of {"success":bool,"labels":{...}} as application/json,
// success or failure, tried up to three times, again only after a
// transport error (an HTTP error status is an answer, not retried). The
// URL's credentials never appear in errors.
package callback

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pys2i/pys2i/internal/redact"
)

// Result is the JSON body.
type Result struct {
	Success bool              `json:"success"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// Attempts is how many times a POST is tried.
const Attempts = 3

// Send posts r to url with client (nil: a client with a 30 s timeout).
func Send(ctx context.Context, client *http.Client, url string, r Result) error {
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("callback: %w", err)
	}
	var lastErr error
	for i := 1; i <= Attempts; i++ {
		// A fresh body each time (s2i re-sent a consumed one).
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("callback to %s: %s", redact.URL(url), redact.URL(err.Error()))
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				return fmt.Errorf("callback to %s: %s", redact.URL(url), resp.Status)
			}
			return nil
		}
		lastErr = err
		if ctx.Err() != nil || i == Attempts {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(i) * 500 * time.Millisecond):
		}
	}
	return fmt.Errorf("callback to %s failed after %d attempts: %s", redact.URL(url), Attempts, redact.URL(lastErr.Error()))
}
