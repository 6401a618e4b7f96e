package callback

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestSend(t *testing.T) {
	var got []map[string]any
	var auth, ctype string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("body %q: %v", b, err)
		}
		got = append(got, m)
		u, p, _ := r.BasicAuth()
		auth, ctype = u+":"+p, r.Header.Get("Content-Type")
	}))
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "http://hook:s3cret@", 1)
	if err := Send(context.Background(), nil, url, Result{Success: true, Labels: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := Send(context.Background(), nil, url, Result{}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0]["success"] != true || got[0]["labels"].(map[string]any)["a"] != "b" || got[1]["success"] != false {
		t.Errorf("bodies: %v", got)
	}
	if auth != "hook:s3cret" || ctype != "application/json" {
		t.Errorf("auth %q, content type %q", auth, ctype)
	}
}

func TestSendErrors(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer srv.Close()
	url := strings.Replace(srv.URL, "http://", "http://hook:s3cret@", 1)
	err := Send(context.Background(), nil, url, Result{})
	if err == nil || !strings.Contains(err.Error(), "500") || strings.Contains(err.Error(), "s3cret") || calls.Load() != 1 {
		t.Errorf("HTTP 500: %v after %d calls; want one call, no retry, no secret", err, calls.Load())
	}

	// A transport error is tried three times.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close() // no answer at all
		}
	}()
	defer l.Close()
	err = Send(context.Background(), nil, "http://hook:s3cret@"+l.Addr().String()+"/cb", Result{})
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("transport error: %v", err)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}
