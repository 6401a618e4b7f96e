package integration

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// buildFlagsAssemble reports what assemble sees into
// /opt/app-root/report.txt (in the image): checksums of the injected files
// (never their content), the volumes, /etc/hosts, its capabilities and
// whether the index is reachable.
const buildFlagsAssemble = `#!/bin/sh
set -e
cp -R /tmp/src/. ./
sum() { if [ -f "$1" ]; then sha256sum "$1" | cut -c1-16; else echo missing; fi; }
{
echo "inject-dir: $(sum /tmp/token.txt) $(sum /tmp/sub/nested.txt)"
echo "inject-file: $(sum ./secret.conf)"
echo "inject-perm: $(stat -c %u:%a /tmp/token.txt 2>/dev/null || echo none)"
echo "volume: $(cat /mnt/vol/data.txt 2>/dev/null || echo missing)"
echo "volume-ro: $(if touch /mnt/vol/new 2>/dev/null; then echo writable; else echo read-only; fi)"
echo "host: $(getent hosts index.pys2i.test || echo none)"
echo "$(grep -E '^Cap(Bnd|Inh)' /proc/self/status | tr '\t' ' ')"
echo "network: $(python3 -c 'import os, urllib.request; urllib.request.urlopen(os.environ["PIP_INDEX_URL"], timeout=3); print("reachable")' 2>/dev/null || echo unreachable)"
} > /opt/app-root/report.txt
if [ -d /opt/cache ]; then echo "written by assemble" > /opt/cache/out.txt; fi
cat /opt/app-root/report.txt
`

// buildFlagsFixture is a source and the host files the flags point at.
type buildFlagsFixture struct {
	src, injectDir, injectFile, roVol, rwVol string
	sums                                     map[string]string // file -> first 16 hex of its sha256
}

const buildFlagsToken = "tok-7f3a9c-never-in-the-image"

func newBuildFlagsFixture(t *testing.T) buildFlagsFixture {
	t.Helper()
	f := buildFlagsFixture{
		src: buildFlaskApp(t, "flags", map[string]string{".s2i/bin/assemble": buildFlagsAssemble}),
		injectDir: appDir(t, map[string]string{
			"token.txt":      buildFlagsToken + "-dir\n",
			"sub/nested.txt": buildFlagsToken + "-nested\n",
		}),
		roVol: appDir(t, map[string]string{"data.txt": "from the volume\n"}),
		rwVol: t.TempDir(),
		sums:  map[string]string{},
	}
	// Host permissions apply in a bind mount: let assemble (uid 1001) write.
	if err := os.Chmod(f.rwVol, 0o777); err != nil {
		t.Fatal(err)
	}
	fileDir := appDir(t, map[string]string{"secret.conf": buildFlagsToken + "-file\n"})
	f.injectFile = filepath.Join(fileDir, "secret.conf")
	for _, p := range []string{filepath.Join(f.injectDir, "token.txt"), filepath.Join(f.injectDir, "sub/nested.txt"), f.injectFile} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(b)
		f.sums[filepath.Base(p)] = hex.EncodeToString(s[:])[:16]
	}
	return f
}

// buildReport reads report.txt from the image.
func buildReport(t *testing.T, tag string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", tag, "cat", "/opt/app-root/report.txt")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(l, ":")
		m[k] = strings.TrimSpace(v)
	}
	return m
}

// One build with --inject, --volume, --add-host, --cap-drop and
// --callback-url: assemble sees each, and the image holds none of them.
func TestBuildFlags(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	f := newBuildFlagsFixture(t)
	tag := "localhost/pys2i-test/build-flags:latest"
	buildRmi(t, tag)

	var mu sync.Mutex
	var posts []string
	var auth string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		posts = append(posts, r.Method+" "+r.Header.Get("Content-Type")+" "+string(b))
		u, p, _ := r.BasicAuth()
		auth = u + ":" + p
	}))
	defer hook.Close()
	hookURL := strings.Replace(hook.URL, "http://", "http://hookuser:h00kpw@", 1) + "/done"

	before := buildSnapshot(t)
	r := buildRun(t, "build", f.src, builder, tag, "-e", "PIP_INDEX_URL="+w.Index.URL,
		"--inject", f.injectDir+":/tmp", "-i", f.injectFile+":.",
		"-v", f.roVol+":/mnt/vol:ro", "--volume", f.rwVol+":/opt/cache",
		"--add-host", "index.pys2i.test:127.0.0.7",
		"--cap-drop", "net_raw,CAP_CHOWN",
		"--callback-url", hookURL)
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	buildNoLeftovers(t, before, r)
	if strings.Contains(r.stdout+r.stderr, "h00kpw") || strings.Contains(r.stdout+r.stderr, buildFlagsToken) {
		t.Errorf("a credential or the injected secret was printed:\n%s\n%s", r.stdout, r.stderr)
	}
	rep := buildReport(t, tag)
	t.Logf("assemble saw: %v", rep)

	t.Run("inject", func(t *testing.T) {
		if want := f.sums["token.txt"] + " " + f.sums["nested.txt"]; rep["inject-dir"] != want {
			t.Errorf("injected directory: %q, want %q", rep["inject-dir"], want)
		}
		if rep["inject-file"] != f.sums["secret.conf"] {
			t.Errorf("injected file (relative destination: WORKDIR): %q, want %q", rep["inject-file"], f.sums["secret.conf"])
		}
		if rep["inject-perm"] != "1001:600" {
			t.Errorf("injected file owner and mode: %q, want 1001:600", rep["inject-perm"])
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", tag, "sh", "-c",
			"for p in /tmp/token.txt /tmp/sub /opt/app-root/src/secret.conf; do test -e $p && echo present $p; done; test -f /opt/app-root/src/app.py && echo app")
		if err != nil || out != "app" {
			t.Errorf("in the image: %q %v; want the app and no injected file", out, err)
		}
		// Not a byte of them in any layer.
		archive := filepath.Join(t.TempDir(), "image.tar")
		if _, err := world.Podman(ctx, buildConf(t), "save", "--format", "docker-archive", "-o", archive, tag); err != nil {
			t.Fatal(err)
		}
		if n := grepFile(t, archive, buildFlagsToken); n != 0 {
			t.Errorf("the injected secret is in the saved image (%d times)", n)
		}
	})
	t.Run("volume", func(t *testing.T) {
		if rep["volume"] != "from the volume" || rep["volume-ro"] != "read-only" {
			t.Errorf("read-only volume: %q %q", rep["volume"], rep["volume-ro"])
		}
		if b, err := os.ReadFile(filepath.Join(f.rwVol, "out.txt")); err != nil || string(b) != "written by assemble\n" {
			t.Errorf("read-write volume: assemble's write reached the host as %q, %v", b, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, _ := world.Podman(ctx, buildConf(t), "run", "--rm", "--network", "host", tag, "sh", "-c", "ls -d /mnt/vol /opt/cache 2>&1 || true")
		if strings.Contains(out, "/mnt/vol\n") || !strings.Contains(out, "No such file") || strings.Count(out, "No such file") != 2 {
			t.Errorf("the mount points are in the image: %q", out)
		}
	})
	t.Run("add-host", func(t *testing.T) {
		if rep["host"] != "127.0.0.7       index.pys2i.test" {
			t.Errorf("getent hosts index.pys2i.test: %q", rep["host"])
		}
		if hosts, _ := os.ReadFile("/etc/hosts"); strings.Contains(string(hosts), "index.pys2i.test") {
			t.Error("the host's /etc/hosts was changed")
		}
	})
	t.Run("cap-drop", func(t *testing.T) {
		var bnd uint64
		if _, err := fmt.Sscanf(rep["CapBnd"], "%x", &bnd); err != nil {
			t.Fatalf("CapBnd %q: %v", rep["CapBnd"], err)
		}
		// podman's default set (0x800405fb) without CAP_CHOWN; CAP_NET_RAW
		// is not in it.
		if want := uint64(0x800405fb &^ (1 << 0)); bnd != want {
			t.Errorf("CapBnd = %x: want %x, the default set without CAP_CHOWN", bnd, want)
		}
	})
	t.Run("network host", func(t *testing.T) {
		if rep["network"] != "reachable" {
			t.Errorf("the index on loopback: %q", rep["network"])
		}
	})
	t.Run("callback-url", func(t *testing.T) {
		mu.Lock()
		defer mu.Unlock()
		if len(posts) != 1 || auth != "hookuser:h00kpw" {
			t.Fatalf("posts %q with auth %q; want one with the URL's credentials", posts, auth)
		}
		method, ctype, body := strings.Fields(posts[0])[0], strings.Fields(posts[0])[1], strings.SplitN(posts[0], " ", 3)[2]
		var res struct {
			Success bool
			Labels  map[string]string
		}
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatal(err)
		}
		if method != "POST" || ctype != "application/json" || !res.Success || res.Labels["io.openshift.s2i.build.image"] != builder {
			t.Errorf("callback: %s %s %+v", method, ctype, res)
		}
	})
}

// grepFile counts the occurrences of s in a file.
func grepFile(t *testing.T, path, s string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), s)
}

// --network none: assemble has only a loopback of its own and cannot reach
// the index (and --cap-drop all empties its bounding set); the callback
// reports a failed build too.
func TestBuildNetworkNone(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	f := newBuildFlagsFixture(t)
	tag := "localhost/pys2i-test/build-nonet:latest"
	buildRmi(t, tag)
	r := buildRun(t, "build", f.src, builder, tag, "-q", "-e", "PIP_INDEX_URL="+w.Index.URL, "--network", "none", "--cap-drop", "all")
	if r.code != 0 {
		t.Fatalf("pys2i build: exit %d\n%s", r.code, r.stderr)
	}
	rep := buildReport(t, tag)
	if rep["network"] != "unreachable" || rep["host"] != "none" {
		t.Errorf("with --network none: %v", rep)
	}
	if rep["CapBnd"] != "0000000000000000" {
		t.Errorf("with --cap-drop all: CapBnd %q", rep["CapBnd"])
	}

	var mu sync.Mutex
	var got string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = string(b)
		mu.Unlock()
	}))
	defer hook.Close()
	// A real pip install without network fails; the callback says so.
	src := buildFlaskApp(t, "never", nil)
	before := buildSnapshot(t)
	r = buildRun(t, "build", src, builder, tag+"-fail", "-e", "PIP_INDEX_URL="+w.Index.URL, "--network", "none", "--callback-url", hook.URL)
	if r.code == 0 {
		t.Fatalf("pip reached the index with --network none:\n%s", r.stdout)
	}
	buildNoLeftovers(t, before, r)
	mu.Lock()
	defer mu.Unlock()
	if got != `{"success":false}` {
		t.Errorf("callback body %q, want failure", got)
	}
}

// Bad flag values: a clear message, exit 1, nothing built or left.
func TestBuildFlagsBadValues(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildQuickSource(t)
	tag := "localhost/pys2i-test/build-badflag:latest"
	missing := filepath.Join(t.TempDir(), "missing")
	envFile := func(body string) string {
		p := filepath.Join(t.TempDir(), "build.env")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badName, bigVar := envFile("A=1\nBAD-NAME=1\n"), envFile("BIG="+strings.Repeat("x", 200<<10)+"\n")
	var manyBig []string // eleven 100 KiB variables: over the 1 MiB the whole build env may have
	for i := range 11 {
		manyBig = append(manyBig, "-e", fmt.Sprintf("V%d=%s", i, strings.Repeat("x", 100<<10)))
	}
	// absent is a builder that is not there, and may not be pulled: the
	// cases that name it are refused before anything is pulled.
	const absent = "localhost/pys2i-test/no-such-builder:latest"
	tests := []struct {
		name    string
		args    []string
		want    string
		src     map[string]string // files over the quick source's
		builder string            // "" for the test builder
	}{
		{name: "-e name", args: []string{"-e", "BAD-NAME=1"}, want: `invalid -e value: invalid variable name "BAD-NAME"`},
		{name: "-e export", args: []string{"-e", "export X=1"}, want: `invalid -e value: "export X": this is NAME=VALUE, not shell: write X=... without "export"`},
		{name: "-e total", args: append(manyBig, "--pull-policy", "never"), builder: absent,
			want: "the build environment is 1126445 bytes, more than the 1048576 a build allows: the largest variables are V10 (102405 bytes)"},
		{name: "-E name", args: []string{"-E", badName, "--pull-policy", "never"}, builder: absent,
			want: badName + `:2: bad line: invalid variable name "BAD-NAME"`},
		{name: "-E oversized", args: []string{"-E", bigVar, "--pull-policy", "never"}, builder: absent,
			want: bigVar + ":1: bad line: variable BIG is 204804 bytes as NAME=VALUE, more than the 131071"},
		{name: ".s2i/environment name", src: map[string]string{".s2i/environment": "A=1\nMY VAR=1\n"},
			want: `.s2i/environment:2: bad line: invalid variable name "MY VAR"`},
		{name: ".s2i/environment oversized", args: []string{"--pull-policy", "never"}, builder: absent,
			src:  map[string]string{".s2i/environment": "A=1\nBIG=" + strings.Repeat("x", 200<<10) + "\n"},
			want: ".s2i/environment:2: bad line: variable BIG is 204804 bytes as NAME=VALUE, more than the 131071"},
		{name: ".s2i/environment export", src: map[string]string{".s2i/environment": "export X=1\n"},
			want: `.s2i/environment:1: bad line: "export X": this is NAME=VALUE, not shell`},
		{name: ".s2i/environment 1 MB line", src: map[string]string{".s2i/environment": "A=1\nB=" + strings.Repeat("x", 1<<20) + "\n"},
			want: ".s2i/environment:2: bad line: longer than 1048576 bytes"},
		{name: "source file named like a whiteout", src: map[string]string{"web/.wh.index.html": "x"},
			want: `source file web/.wh.index.html: a name starting with ".wh." is read as a whiteout`},
		{name: "assemble makes a file named like a whiteout", src: map[string]string{".s2i/bin/assemble": "#!/bin/sh\nset -e\nmv /tmp/src/* ./\necho x > .wh.app.py\n"},
			want: `assemble created /opt/app-root/src/.wh.app.py: a name starting with ".wh." is read as a whiteout`},
		{name: "a runtime artifact named like a whiteout", args: []string{"--runtime-image", "localhost/pys2i-test/python-minimal:latest"},
			src:  map[string]string{".s2i/bin/assemble": "#!/bin/sh\nset -e\nmv /tmp/src/* ./\necho x > .wh.app.py\n"},
			want: `runtime artifacts: layer: opt/app-root/src/.wh.app.py: a name starting with ".wh." is read as a whiteout`},
		{name: "assemble makes an opaque marker", src: map[string]string{".s2i/bin/assemble": "#!/bin/sh\nset -e\nmv /tmp/src/* ./\n: > /opt/app-root/.wh..wh..opq\n"},
			want: "assemble created /opt/app-root/.wh..wh..opq: "},
		{name: "network", args: []string{"--network", "bridge"}, want: `invalid --network "bridge"`},
		{name: "cap-drop", args: []string{"--cap-drop", "CAP_NOPE"}, want: `unknown capability "CAP_NOPE"`},
		{name: "add-host", args: []string{"--add-host", "nohost"}, want: "want HOST:IP"},
		{name: "volume", args: []string{"-v", "relative:/x"}, want: "absolute host path"},
		{name: "volume source missing", args: []string{"-v", missing + ":/x"}, want: "--volume " + missing + ":/x"},
		{name: "inject chars", args: []string{"--inject", "/a*:/b"}, want: "not allowed"},
		{name: "inject source missing", args: []string{"--inject", missing + ":/tmp"}, want: "--inject " + missing},
		{name: "inject destination missing", args: []string{"--inject", src + ":/no/such/dir"}, want: "the destination directory /no/such/dir must exist in the builder image"},
		{name: "callback-url", args: []string{"--callback-url", "ftp://u:s3cret@x/"}, want: "invalid --callback-url ftp://***@x/"},
		{name: "dockercfg-path", args: []string{"--dockercfg-path", missing}, want: "registry auth file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, builder := src, builder
			if tt.src != nil {
				src = buildQuickSource(t, tt.src)
			}
			if tt.builder != "" {
				builder = tt.builder
			}
			before := buildSnapshot(t)
			r := buildRun(t, append([]string{"build", src, builder, tag, "-q"}, tt.args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) || strings.Contains(r.stderr, "s3cret") {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tt.want)
			}
			if buildImageExists(t, tag) {
				t.Error("an image was written")
			}
			buildNoLeftovers(t, before, r)
		})
	}
}

// --dockercfg-path: a registry that wants a password (an authenticating
// proxy in front of the world's registry) takes the push with the auth
// file, and refuses it without.
func TestBuildDockercfgPath(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildQuickSource(t)
	_, host := registryProxy(t, "pushuser", "pu5hpw")

	cfg := filepath.Join(t.TempDir(), "config.json")
	creds := base64.StdEncoding.EncodeToString([]byte("pushuser:pu5hpw"))
	if err := os.WriteFile(cfg, []byte(`{"auths":{"`+host+`":{"auth":"`+creds+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tag := "docker://" + host + "/pys2i-test/build-auth:latest"

	r := buildRun(t, "build", src, builder, tag, "-q", "--tls-verify=false")
	if r.code == 0 || !strings.Contains(r.stderr, "authentication required") {
		t.Errorf("without the auth file: exit %d\n%s", r.code, r.stderr)
	}
	before := buildSnapshot(t)
	r = buildRun(t, "build", src, builder, tag, "-q", "--tls-verify=false", "--dockercfg-path", cfg)
	if r.code != 0 {
		t.Fatalf("with the auth file: exit %d\n%s", r.code, r.stderr)
	}
	buildNoLeftovers(t, before, r)
	if strings.Contains(r.stderr, "pu5hpw") || strings.Contains(r.stderr, creds) {
		t.Errorf("credentials printed:\n%s", r.stderr)
	}
	// The image is in the registry behind the proxy.
	req, err := http.NewRequest("GET", "http://"+w.Registry.URL+"/v2/pys2i-test/build-auth/manifests/latest", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "layers") {
		t.Errorf("the pushed manifest: %s\n%s", resp.Status, body)
	}
}

// --use-config: a build from the arguments and flags of ./.s2ifile, saved
// back there afterwards.
func TestBuildUseConfig(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildQuickSource(t)
	tag := "localhost/pys2i-test/build-s2ifile:latest"
	buildRmi(t, tag)
	dir := t.TempDir()
	saved := fmt.Sprintf(`{"source":%q,"builderImage":%q,"tag":%q,"flags":{"env-0":"FROM_S2IFILE=yes","quiet":"true"}}`, src, builder, tag)
	if err := os.WriteFile(filepath.Join(dir, ".s2ifile"), []byte(saved), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd, tmp := buildCmd(t, ctx, "build", "--use-config", "--description", "from the command line")
	cmd.Dir = dir
	before := buildSnapshot(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pys2i build --use-config: %v\n%s", err, out)
	}
	buildNoLeftovers(t, before, buildResult{tmp: tmp})
	if strings.Contains(string(out), "assembled") {
		t.Errorf("quiet from .s2ifile not applied: assemble's output shown:\n%s", out)
	}
	inspect, err := world.Podman(ctx, buildConf(t), "image", "inspect", "--format", `{{.Config.Env}} {{index .Labels "io.k8s.description"}}`, tag)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inspect, "FROM_S2IFILE=yes") || !strings.HasSuffix(inspect, " from the command line") {
		t.Errorf("image: %s", inspect)
	}
	b, err := os.ReadFile(filepath.Join(dir, ".s2ifile"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Source, BuilderImage, Tag string
		Flags                     map[string]string
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.Source != src || f.Tag != tag || f.Flags["description"] != "from the command line" || f.Flags["env-0"] != "FROM_S2IFILE=yes" {
		t.Errorf("saved back: %s", b)
	}
}
