//go:build linux

package sandbox_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
)

// With IsolateNetwork the command has only a loopback, up: a server on the
// host's loopback is out of reach (its port is closed on the sandbox's own
// loopback: "refused", where a loopback down would say "unreachable"),
// while without it the same server answers.
func TestIsolateNetwork(t *testing.T) {
	root := rootFS(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the host\n")
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	script := `cut -d: -f1 /proc/net/dev | tail -n +3 | tr -d ' '
printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 127.0.0.1 ` + port + ` 2>&1 | grep -o -E 'hello from the host|refused|unreachable'`
	for _, tt := range []struct {
		isolate bool
		want    string
	}{{true, "lo\nrefused\n"}, {false, "hello from the host\n"}} {
		out, errOut, err := run(t, sandbox.Spec{RootFS: root, Args: sh(script), Env: []string{"PATH=/bin"}, IsolateNetwork: tt.isolate})
		if err != nil {
			t.Fatalf("Run: %v\nstderr: %s", err, errOut)
		}
		if !tt.isolate {
			_, out, _ = strings.Cut(out, "\n") // the host's interfaces, whatever they are
			out = out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:]
		}
		if out != tt.want {
			t.Errorf("isolate=%v: stdout = %q, want %q\nstderr: %s", tt.isolate, out, tt.want, errOut)
		}
	}
}

// capBits reads a hex capability mask from /proc/self/status output.
func capBits(t *testing.T, status, field string) uint64 {
	t.Helper()
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in %q", field, status)
	return 0
}

// Dropped capabilities are in none of the command's sets, even as root,
// and root then cannot do what they allow (chown needs CAP_CHOWN).
func TestCapDrop(t *testing.T) {
	root := rootFS(t)
	const chown, netRaw = 0, 13
	out, errOut, err := run(t, sandbox.Spec{
		RootFS:  root,
		Args:    sh("grep ^Cap /proc/self/status; touch /tmp/f; chown 1:1 /tmp/f && echo chowned || echo refused"),
		Env:     []string{"PATH=/bin"},
		CapDrop: []int{chown, netRaw},
	})
	if err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, errOut)
	}
	for _, f := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if b := capBits(t, out, f); b&(1<<chown|1<<netRaw) != 0 {
			t.Errorf("%s = %x still has CAP_CHOWN or CAP_NET_RAW", f, b)
		}
	}
	if b := capBits(t, out, "CapEff"); b&(1<<3) == 0 {
		t.Errorf("CapEff = %x lost CAP_FOWNER, which was not dropped", b)
	}
	if !strings.HasSuffix(out, "refused\n") {
		t.Errorf("root could chown without CAP_CHOWN:\n%s%s", out, errOut)
	}
	// Without CapDrop, root keeps them.
	out, _, err = run(t, sandbox.Spec{RootFS: root, Args: sh("grep ^CapEff /proc/self/status"), Env: []string{"PATH=/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	if b := capBits(t, out, "CapEff"); b&(1<<chown) == 0 {
		t.Errorf("CapEff = %x without CapDrop", b)
	}
}

// ExtraHosts are in the sandbox's /etc/hosts, after the host's entries;
// the host's file is untouched.
func TestExtraHosts(t *testing.T) {
	root := rootFS(t)
	hostBefore, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := run(t, sandbox.Spec{
		RootFS:     root,
		Args:       sh("cat /etc/hosts; echo x >> /etc/hosts 2>/dev/null && echo writable || echo read-only"),
		Env:        []string{"PATH=/bin"},
		ExtraHosts: []sandbox.HostEntry{{Name: "index.pys2i.test", IP: "127.0.0.1"}},
		UID:        1000, GID: 1000,
	})
	if err != nil {
		t.Fatalf("Run: %v\nstderr: %s", err, errOut)
	}
	want := string(hostBefore)
	if !strings.HasSuffix(want, "\n") {
		want += "\n"
	}
	want += "# added for this build\n127.0.0.1\tindex.pys2i.test\nread-only\n"
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
	if after, _ := os.ReadFile("/etc/hosts"); string(after) != string(hostBefore) {
		t.Errorf("the host's /etc/hosts changed")
	}
	_, _, err = run(t, sandbox.Spec{RootFS: root, Args: sh("true"), ExtraHosts: []sandbox.HostEntry{{Name: "x y", IP: "1.2.3.4"}}})
	if err == nil || !strings.Contains(err.Error(), "invalid hosts entry") {
		t.Errorf("bad entry: %v", err)
	}
	_, _, err = run(t, sandbox.Spec{RootFS: root, Args: sh("true"), CapDrop: []int{99}})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(99)) {
		t.Errorf("bad capability: %v", err)
	}
}
