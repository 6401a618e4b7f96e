package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildTmpfs mounts a tmpfs of size (mount's -o size=) on a new directory,
// with extra options ("ro" remounts it read-only once files are written),
// and unmounts it when the test ends.
func buildTmpfs(t *testing.T, size string, files map[string]string, ro bool) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs (as root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if ro {
		if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
			t.Fatalf("remount %s read-only: %v %s", dir, err, out)
		}
	}
	return dir
}

// buildDirState is a directory's files with their contents (directories
// as "/") and the blocks its file system has in use.
func buildDirState(t *testing.T, dir string) (map[string]string, uint64) {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "/"
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return out, st.Blocks - st.Bfree
}

// buildSmallLayout is an OCI layout with one blob and no image.
func buildSmallLayout(dir string) map[string]string {
	sum := sha256.Sum256([]byte("hello"))
	return map[string]string{
		dir + "/oci-layout": `{"imageLayoutVersion":"1.0.0"}`,
		dir + "/index.json": `{"schemaVersion":2,"manifests":[]}`,
		dir + "/blobs/sha256/" + hex.EncodeToString(sum[:]): "hello",
	}
}

// A full disk while the image is written: a clear "no space left" error
// naming the output, a non-zero exit, and the output's file system as it
// was (a layout, archive or directory the build created is gone; an
// existing layout keeps its blobs and its index).
func TestBuildOutputFullDisk(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildQuickSource(t)
	for _, tt := range []struct {
		name   string
		before map[string]string
		tag    string // under the tmpfs: %s is its path
		args   []string
	}{
		{"new oci layout", nil, "oci:%s/layout:app", nil},
		{"existing oci layout", buildSmallLayout("layout"), "oci:%s/layout:app", nil},
		{"oci-archive", map[string]string{"other.txt": "kept"}, "oci-archive:%s/app.tar:app", nil},
		{"docker-archive", nil, "docker-archive:%s/app.tar:localhost/app:latest", nil},
		{"dir", nil, "dir:%s/image", nil},
		{"runtime image, existing oci layout", buildSmallLayout("layout"), "oci:%s/layout:app",
			[]string{"--runtime-image", "localhost/pys2i-test/python-minimal:latest"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mnt := buildTmpfs(t, "2m", tt.before, false)
			wantFiles, wantUsed := buildDirState(t, mnt)
			tag := fmt.Sprintf(tt.tag, mnt)
			before := buildSnapshot(t)
			r := buildRun(t, append([]string{"build", src, builder, tag, "-q"}, tt.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, "no space left on device for the output "+mnt) {
				t.Errorf("exit %d, stderr:\n%s\nwant non-zero and no space left for the output %s", r.code, r.stderr, mnt)
			}
			files, used := buildDirState(t, mnt)
			for k, v := range wantFiles {
				if files[k] != v {
					t.Errorf("%s is %q after the failed build, want %q", k, files[k], v)
				}
			}
			for k := range files {
				if _, ok := wantFiles[k]; !ok {
					t.Errorf("%s left by the failed build", k)
				}
			}
			if used != wantUsed {
				t.Errorf("the tmpfs has %d blocks in use after the failed build, %d before", used, wantUsed)
			}
			buildNoLeftovers(t, before, r)
		})
	}
}

// An output that cannot be written fails the build before it pulls the
// builder or makes a container: a read-only directory, an existing file a
// docker-archive cannot add to, a registry with nothing listening. The
// existing file is left alone.
func TestBuildOutputUnwritable(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildQuickSource(t)
	ro := buildTmpfs(t, "1m", map[string]string{"layout/oci-layout": `{"imageLayoutVersion":"1.0.0"}`}, true)
	down := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	existing := filepath.Join(t.TempDir(), "app.tar")
	if err := os.WriteFile(existing, []byte("an archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, tag, want string
		args            []string
	}{
		{"new oci layout", "oci:" + ro + "/new:app", "output " + ro + "/new: cannot write in " + ro + ": read-only file system", nil},
		{"existing oci layout", "oci:" + ro + "/layout:app", "output " + ro + "/layout: cannot write in " + ro + "/layout: read-only file system", nil},
		{"oci-archive", "oci-archive:" + ro + "/app.tar", "cannot write in " + ro + ": read-only file system", nil},
		{"docker-archive", "docker-archive:" + ro + "/app.tar", "cannot write in " + ro + ": read-only file system", nil},
		{"docker-archive over an existing file", "docker-archive:" + existing, "output " + existing + " exists", nil},
		{"dir", "dir:" + ro + "/image", "cannot write in " + ro + ": read-only file system", nil},
		{"registry down", "docker://" + down + "/pys2i-test/app:latest", "the registry " + down + " does not answer", nil},
		{"registry down, no TLS", "docker://" + down + "/pys2i-test/app:latest", "the registry " + down + " does not answer", []string{"--tls-verify=false"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := buildSnapshot(t)
			r := buildRun(t, append([]string{"build", src, builder, tt.tag}, tt.args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant 1 and %q", r.code, r.stderr, tt.want)
			}
			for _, never := range []string{"pys2i: building with", "pys2i: running", "failed (attempt"} {
				if strings.Contains(r.stderr, never) {
					t.Errorf("the build went as far as %q:\n%s", never, r.stderr)
				}
			}
			if strings.Contains(r.stdout, "assembled") {
				t.Errorf("assemble ran:\n%s", r.stdout)
			}
			buildNoLeftovers(t, before, r)
		})
	}
	if b, err := os.ReadFile(existing); err != nil || string(b) != "an archive" {
		t.Errorf("the existing archive is now %q, %v", b, err)
	}
}

// A build removes the pip caches of other TAGs unused for longer than
// --pip-cache-max-age, and never one that another build holds.
func TestBuildPrunesPipCaches(t *testing.T) {
	buildIsolate(t)
	builder := buildBuilder(t)
	src := buildQuickSource(t)
	tag := "localhost/pys2i-test/build-cacheprune:latest"
	buildRmi(t, tag)
	root := filepath.Join(filepath.Dir(buildGraphRoot(t)), "pys2i-cache", "pip")
	old := time.Now().Add(-400 * 24 * time.Hour) // older than any real cache of the world
	var dirs []string
	for _, name := range []string{"pys2i-test-stale", "pys2i-test-held", "pys2i-test-recent"} {
		d := filepath.Join(root, name)
		dirs = append(dirs, d)
		if err := os.MkdirAll(filepath.Join(d, "wheels"), 0o700); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
	}
	// Held as a running build holds its cache: a shared lock on it.
	held, err := os.Open(dirs[1])
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs[:2] {
		if err := os.Chtimes(d, old, old); err != nil {
			t.Fatal(err)
		}
	}
	before := buildSnapshot(t)
	r := buildRun(t, "build", src, builder, tag, "-q", "--pip-cache-max-age", "365d")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for i, want := range []bool{false, true, true} {
		if _, err := os.Stat(dirs[i]); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v\n%s", dirs[i], err == nil, want, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, "pys2i: removed 1 pip cache(s)") || !strings.Contains(r.stderr, "pys2i-test-stale") {
		t.Errorf("the removal is not in the log:\n%s", r.stderr)
	}
	buildNoLeftovers(t, before, r)
}
