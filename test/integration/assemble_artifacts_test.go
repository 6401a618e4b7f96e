package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/test/harness"
)

// asmSaveArtifacts runs save-artifacts in the box and returns the tar's host path.
func (b *asmBox) asmSaveArtifacts() string {
	b.t.Helper()
	tarPath := filepath.Join(b.t.TempDir(), "artifacts.tar")
	f, err := os.Create(tarPath)
	if err != nil {
		b.t.Fatal(err)
	}
	defer f.Close()
	var stderr syncBuffer
	s := b.spec
	s.Args = []string{"/usr/libexec/s2i/save-artifacts"}
	s.Stdout, s.Stderr = f, &stderr
	if err := sandbox.Run(b.ctx, s); err != nil {
		b.t.Fatalf("save-artifacts: %v\n%s", err, stderr.String())
	}
	return tarPath
}

// asmPutArtifacts extracts a save-artifacts tar into /tmp/artifacts as s2i does.
func (b *asmBox) asmPutArtifacts(tarPath string) {
	b.t.Helper()
	s := b.spec
	s.Mounts = append(append([]sandbox.Mount(nil), s.Mounts...), sandbox.Mount{Source: tarPath, Target: "/tmp/artifacts.tar", ReadOnly: true})
	s.Args = []string{"/bin/sh", "-ec", "mkdir -p /tmp/artifacts && tar -xf /tmp/artifacts.tar -C /tmp/artifacts"}
	if out, err := harness.Output(b.ctx, s); err != nil {
		b.t.Fatalf("extract artifacts: %v\n%s", err, out)
	}
}

// save-artifacts then re-assemble: unchanged inputs reuse the venv in one
// line; changed inputs reinstall from a clean venv with the restored cache;
// no cache lands in $APP_ROOT; the app itself is always reinstalled.
func TestAssembleArtifactsReuse(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	files := map[string]string{
		"requirements.txt": "flask==2.2.2\nwerkzeug<3\ngunicorn==20.1.0\n",
		"setup.py":         "from setuptools import setup\nsetup(name='reuseapp', version='1.0', py_modules=['reuseapp'])\n",
		"reuseapp.py":      "V = 1\n",
	}
	first := asmNewBox(t, ctx, "minimal", files)
	first.mustAssemble()
	if got := first.sh(`ls -d $HOME/.cache /opt/app-root/.cache 2>/dev/null || true; ls /tmp/pys2i | grep -v pip-cache`); got != "fingerprint.json\n" {
		t.Errorf("state: %q", got)
	}
	tarPath := first.asmSaveArtifacts()

	// The two re-assembles only read the tar: they run side by side.
	t.Run("unchanged", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		b := asmNewBox(t, ctx, "minimal", map[string]string{
			"requirements.txt": files["requirements.txt"], "setup.py": files["setup.py"], "reuseapp.py": "V = 2\n",
		})
		b.asmPutArtifacts(tarPath)
		start := time.Now()
		out := b.mustAssemble()
		t.Logf("re-assemble with unchanged dependencies: %v", time.Since(start))
		asmInOrder(t, out, "---> Installing application source ...", "---> Reusing dependencies from the previous build\n",
			"---> Installing application (via setup.{py,cfg})...", "Successfully installed reuseapp-1.0")
		if strings.Contains(out, "---> Installing dependencies") || strings.Contains(out, "Collecting flask") {
			t.Errorf("dependencies reinstalled:\n%s", out)
		}
		got := b.sh(`cd /tmp && python -c 'import flask, gunicorn, reuseapp; print(flask.__version__, reuseapp.V)'; ls -A /tmp/artifacts; stat -c %u:%g /opt/app-root/bin/gunicorn`)
		if got != "2.2.2 2\n1001:0\n" {
			t.Errorf("after reuse: %q", got)
		}
	})
	t.Run("changed", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		b := asmNewBox(t, ctx, "minimal", map[string]string{
			"requirements.txt": "flask==2.2.2\nwerkzeug<3\nsix==1.16.0\n", "setup.py": files["setup.py"], "reuseapp.py": "V = 3\n",
		})
		b.asmPutArtifacts(tarPath)
		out := b.mustAssemble()
		if strings.Contains(out, "Reusing dependencies") {
			t.Errorf("reused despite a changed requirements.txt:\n%s", out)
		}
		asmInOrder(t, out, "---> Installing dependencies ...", "Successfully installed")
		got := b.sh(`cd /tmp && python -c 'import flask, six, reuseapp; print(reuseapp.V)'; python -c 'import gunicorn' 2>/dev/null && echo stale-gunicorn; true`)
		if got != "3\n" {
			t.Errorf("after change: %q\n%s", got, out)
		}
		t.Logf("cache hits: %d", strings.Count(out, "Using cached"))
	})
}

// The restored pip cache: a changed requirements.txt reinstalls from a clean
// venv, but the wheel built from an sdist (mod_wsgi, compiled in the full
// image) comes from the cache instead of being compiled again.
func TestAssembleArtifactsWheelCache(t *testing.T) {
	t.Parallel()
	// The incremental pair and the plain build are independent boxes, but
	// run one after the other: parallel subtests queue behind every other
	// parallel test, and these long ones would then end the run last.
	t.Run("incremental", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		first := asmNewBox(t, ctx, "full", map[string]string{"requirements.txt": "mod_wsgi==5.0.2\n"})
		// With wheel installed (UPGRADE_PIP_TO_LATEST), pip builds a wheel
		// and caches it; without, it runs the legacy setup.py install.
		// A first build keeps its cache in the image only when asked to.
		out := first.mustAssemble("UPGRADE_PIP_TO_LATEST=1", "PYS2I_KEEP_CACHE=1")
		asmInOrder(t, out, "Building wheel for mod_wsgi", "Stored in directory: /tmp/pys2i/pip-cache/wheels/", "Successfully installed mod_wsgi-5.0.2")
		tarPath := first.asmSaveArtifacts()

		b := asmNewBox(t, ctx, "full", map[string]string{"requirements.txt": "mod_wsgi==5.0.2\nsix==1.16.0\n"})
		b.asmPutArtifacts(tarPath)
		out = b.mustAssemble("UPGRADE_PIP_TO_LATEST=1")
		if strings.Contains(out, "Reusing dependencies") || strings.Contains(out, "Building wheel for mod_wsgi") {
			t.Errorf("mod_wsgi compiled again (or deps reused):\n%s", out)
		}
		asmInOrder(t, out, "---> Installing dependencies ...", "Successfully installed")
		if got := b.sh(`cd /tmp && python -c 'import mod_wsgi, six; print("ok")'; ls -d /opt/app-root/src/.cache 2>/dev/null || echo no-cache-in-app-root`); got != "ok\nno-cache-in-app-root\n" {
			t.Errorf("got %q\n%s", got, out)
		}
		// An incremental build (artifacts restored) keeps the cache for the next one.
		if got := b.sh(`ls /tmp/pys2i`); got != "fingerprint.json\npip-cache\n" {
			t.Errorf("state after an incremental build: %q", got)
		}
	})
	// A plain build leaves no cache bytes in the image.
	t.Run("plain", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		plain := asmNewBox(t, ctx, "full", map[string]string{"requirements.txt": "mod_wsgi==5.0.2\n"})
		out := plain.mustAssemble("UPGRADE_PIP_TO_LATEST=1")
		asmInOrder(t, out, "Building wheel for mod_wsgi", "Successfully installed mod_wsgi-5.0.2")
		if got := plain.sh(`ls /tmp/pys2i`); got != "fingerprint.json\n" {
			t.Errorf("state after a plain build: %q, want only the fingerprint", got)
		}
	})
}
