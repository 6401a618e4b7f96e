package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// imagesApp is one app of test/apps built the way upstream's test library
// emulates `s2i build` (ct_s2i_build_as_df): a generated Containerfile.
type imagesApp struct {
	dir     string // under test/apps
	variant string
	port    int    // fixed port the app binds (0: it honours PORT)
	body    string // expected GET / body ("" = the dir name)
	fail    string // the build must fail with this in its output
}

func TestImagesUpstreamStyleApps(t *testing.T) {
	apps := []imagesApp{
		{dir: "wsgi-flask", variant: "minimal"},
		{dir: "app-module", variant: "minimal"},
		{dir: "app-py", variant: "minimal"},
		{dir: "app-sh", variant: "full"},
		{dir: "gunicorn-conf", variant: "minimal", port: 8085},
		{dir: "numpy-app", variant: "minimal", body: "numpy-app [0.5, 0.25]"},
		{dir: "fail-pipenv-micropipenv", variant: "minimal", fail: "ERROR: Pipenv and micropipenv cannot be enabled at the same time!"},
		{dir: "fail-missing-package", variant: "minimal", fail: "pys2i-no-such-package-anywhere"},
	}
	for _, app := range apps {
		t.Run(app.dir, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
			defer cancel()
			imagesRequire(t, ctx, imagesVariants[app.variant])
			tag := "localhost/pys2i-test/app-" + app.dir + ":latest"
			out, err := imagesBuildApp(ctx, t, app, tag)
			if app.fail != "" {
				if err == nil {
					world.Podman(context.Background(), w.Conf, "rmi", "-f", tag)
					t.Fatalf("build of %s succeeded, want a failure:\n%s", app.dir, out)
				}
				// podman's stderr (where pip and assemble's errors go) is in err.
				if all := out + err.Error(); !strings.Contains(all, app.fail) {
					t.Fatalf("build failed without %q:\n%s", app.fail, all)
				}
				return
			}
			if err != nil {
				t.Fatalf("build %s: %v\n%s", app.dir, err, out)
			}
			defer world.Podman(context.Background(), w.Conf, "rmi", "-f", tag)
			body := app.body
			if body == "" {
				body = app.dir
			}
			for _, mode := range []struct {
				name string
				args []string
			}{
				{"uid 1001", []string{"--user", "1001"}},
				{"random uid", []string{"--user", "12345:0"}},
				{"init wrapper", []string{"-e", "ENABLE_INIT_WRAPPER=true"}},
			} {
				t.Run(mode.name, func(t *testing.T) {
					imagesServe(ctx, t, tag, app.port, body, mode.args, mode.name == "init wrapper")
				})
			}
		})
	}
}

// imagesBuildApp writes the context and Containerfile and runs podman build.
func imagesBuildApp(ctx context.Context, t *testing.T, app imagesApp, tag string) (string, error) {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "apps", app.dir))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", src, filepath.Join(dir, "src")).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v %s", src, err, out)
	}
	var cf strings.Builder
	fmt.Fprintf(&cf, "FROM %s\nUSER 0\nCOPY src /tmp/src\nRUN chown -R 1001:0 /tmp/src\n", imagesVariants[app.variant])
	fmt.Fprintf(&cf, "ENV PIP_INDEX_URL=%s\n", w.Index.URL)
	// .s2i/environment lines become ENV lines, comments dropped, as upstream.
	if f, err := os.Open(filepath.Join(src, ".s2i", "environment")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
				fmt.Fprintf(&cf, "ENV %s\n", line)
			}
		}
		f.Close()
	}
	assemble, run := "/usr/libexec/s2i/assemble", "/usr/libexec/s2i/run"
	if _, err := os.Stat(filepath.Join(src, ".s2i", "bin")); err == nil {
		cf.WriteString("RUN mv /tmp/src/.s2i/bin /tmp/scripts\n")
		if _, err := os.Stat(filepath.Join(src, ".s2i", "bin", "assemble")); err == nil {
			assemble = "/tmp/scripts/assemble"
		}
		if _, err := os.Stat(filepath.Join(src, ".s2i", "bin", "run")); err == nil {
			run = "/tmp/scripts/run"
		}
	}
	// Exec form: a shell as PID 1 would not pass SIGTERM on (dash does not exec).
	fmt.Fprintf(&cf, "USER 1001\nRUN %s\nCMD [%q]\n", assemble, run)
	if err := os.WriteFile(filepath.Join(dir, "Containerfile"), []byte(cf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := world.Podman(ctx, w.Conf, "build", "--network", "host", "-t", tag, dir)
	t.Logf("podman build %s: %v", app.dir, time.Since(start).Round(time.Millisecond))
	return out, err
}

// imagesServe runs the image detached with host networking and waits for
// 200 and the body on GET /; with wrapped it also checks that `podman stop
// -t 10` ends the container in under 2 s.
func imagesServe(ctx context.Context, t *testing.T, tag string, fixedPort int, body string, extra []string, wrapped bool) {
	t.Helper()
	port := fixedPort
	args := []string{"run", "-d", "--network", "host"}
	if port == 0 {
		port = freePort(t)
		args = append(args, "-e", fmt.Sprintf("PORT=%d", port))
	}
	args = append(append(args, extra...), tag)
	id, err := world.Podman(ctx, w.Conf, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer world.Podman(context.Background(), w.Conf, "rm", "-f", "-t", "0", id)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Timeout: 2 * time.Second}
	start := time.Now()
	for {
		resp, err := client.Get(url)
		if err == nil {
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(got) != body {
				logs, _ := world.Podman(ctx, w.Conf, "logs", id)
				t.Fatalf("GET %s: %d %q, want 200 %q\n%s", url, resp.StatusCode, got, body, logs)
			}
			break
		}
		if time.Since(start) > 30*time.Second {
			logs, _ := world.Podman(ctx, w.Conf, "logs", id)
			t.Fatalf("no answer on %s within 30 s: %v\n%s", url, err, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("first 200 after %v", time.Since(start).Round(time.Millisecond))
	if wrapped {
		stop := time.Now()
		if _, err := world.Podman(ctx, w.Conf, "stop", "-t", "10", id); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(stop); d > 2*time.Second {
			t.Errorf("podman stop -t 10 took %v, want under 2 s", d)
		}
	}
}
