package imagebuild

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/image/v5/types"
	"go.podman.io/storage"

	"github.com/pys2i/pys2i/imagebuild/container"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/imagebuild/source/s2iscripts"
)

// ArtifactsDir is where s2i puts the previous build's artifacts for
// assemble: DEST/artifacts.
func artifactsDir(dest string) string { return path.Join(dest, "artifacts") }

// saveArtifactsRun is s2i's incremental step: save-artifacts runs, as the
// assemble user, in a throwaway container of the previous image (with an
// uploaded script injected there, as s2i does), and the tar it writes is
// extracted into DEST/artifacts of the build container, owned by the
// assemble user. A previous image without the script gives a clean build.
type saveArtifactsRun struct {
	store   storage.Store
	prev    images.Local
	script  s2iscripts.Script
	dest    string
	env     []string
	dir     string
	uid     uint32
	gid     uint32
	srcHost string // the prepared source (an uploaded script's origin)
	tmp     string // the build's temp dir
	stderr  io.Writer
	logf    func(string, ...any)
}

func (s saveArtifactsRun) run(ctx context.Context, buildRoot string) error {
	// Named as the build, so that the sweep finds it if pys2i dies here.
	pc, err := container.Create(s.store, s.prev.Image.ID, artifactsContainerName(s.tmp))
	if err != nil {
		return fmt.Errorf("save-artifacts: %w", err)
	}
	defer pc.Remove()
	owner := &source.Owner{UID: int(s.uid), GID: int(s.gid)}
	if s.script.External() {
		if err := injectScript(pc.Root, s.srcHost, s.dest, s.script, owner); err != nil {
			return err
		}
	}
	inPrev := s.script.PathIn(s.dest)
	p, err := securejoin.SecureJoin(pc.Root, inPrev)
	if err != nil {
		return fmt.Errorf("save-artifacts: %w", err)
	}
	if _, err := os.Stat(p); err != nil {
		s.logf("pys2i: the previous image has no %s: a clean build", inPrev)
		return nil
	}
	out, err := os.CreateTemp(s.tmp, "artifacts-*.tar")
	if err != nil {
		return fmt.Errorf("save-artifacts: %w", err)
	}
	defer out.Close()
	s.logf("pys2i: saving artifacts of the previous image with %s", inPrev)
	err = sandbox.Run(ctx, sandbox.Spec{
		RootFS: pc.Root, Writable: true, Args: []string{inPrev},
		Env: s.env, Dir: s.dir, UID: s.uid, GID: s.gid, Stdout: out, Stderr: s.stderr,
		TempDir: s.tmp, // the build's: swept with it if pys2i dies
	})
	var ee *sandbox.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("save-artifacts failed with exit status %d", ee.Code)
	}
	if err != nil {
		return fmt.Errorf("save-artifacts: %w", err)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("save-artifacts: %w", err)
	}
	dst, err := securejoin.SecureJoin(buildRoot, artifactsDir(s.dest))
	if err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	n, err := extractArtifacts(out, dst, int(s.uid), int(s.gid))
	if err != nil {
		return fmt.Errorf("restore artifacts into %s: %w", artifactsDir(s.dest), err)
	}
	s.logf("pys2i: restored %d artifact entries into %s", n, artifactsDir(s.dest))
	return nil
}

// artifactsContainerName is the name of the save-artifacts container of the
// build whose temp dir is tmp.
func artifactsContainerName(tmp string) string { return filepath.Base(tmp) + artifactsSuffix }

// extractArtifacts extracts a save-artifacts tar into dir (created, owned by
// uid:gid), confined to dir: every operation goes through an os.Root, so no
// name with "..", no absolute name and no symlink in the tar can reach
// outside; names that try are an error. Directories, regular files,
// symlinks and hard links are extracted, owned by uid:gid; anything else
// (devices, FIFOs) is skipped. It returns the number of entries extracted.
func extractArtifacts(r io.Reader, dir string, uid, gid int) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return 0, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	tr := tar.NewReader(r)
	n := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("read the artifacts tar: %w", err)
		}
		name, err := artifactName(hdr.Name)
		if err != nil {
			return n, err
		}
		if name == "." {
			continue
		}
		if d := filepath.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return n, fmt.Errorf("%s: %w", hdr.Name, err)
			}
		}
		mode := fs.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, mode|0o700); err != nil {
				return n, fmt.Errorf("%s: %w", hdr.Name, err)
			}
		case tar.TypeReg, tar.TypeRegA:
			f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
			if err != nil {
				return n, fmt.Errorf("%s: %w", hdr.Name, err)
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return n, fmt.Errorf("%s: %w", hdr.Name, err)
			}
		case tar.TypeSymlink:
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return n, fmt.Errorf("%s: %w", hdr.Name, err)
			}
		case tar.TypeLink:
			target, err := artifactName(hdr.Linkname)
			if err != nil {
				return n, err
			}
			if err := root.Link(target, name); err != nil {
				return n, fmt.Errorf("%s: %w", hdr.Name, err)
			}
		default:
			continue
		}
		if err := root.Lchown(name, uid, gid); err != nil {
			return n, fmt.Errorf("%s: %w", hdr.Name, err)
		}
		n++
	}
}

// artifactName is a tar entry's name relative to the extraction directory;
// a name that leaves it is an error, not something to clean up silently.
func artifactName(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("the artifacts tar has an absolute name %q", name)
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("the artifacts tar has a name outside its directory %q", name)
	}
	return filepath.FromSlash(c), nil
}

// scriptNames are the scripts a build locates: save-artifacts too when
// incremental (s2i uploads it with the others).
func scriptNames(incremental bool) []string {
	if incremental {
		return []string{s2iscripts.Assemble, s2iscripts.Run, s2iscripts.SaveArtifacts}
	}
	return []string{s2iscripts.Assemble, s2iscripts.Run}
}

// removePrevious is --rm: the previous image goes once the build is
// written, unless it is the image just written (an identical rebuild).
// Failing to remove it is reported, not an error: the build succeeded.
func removePrevious(store storage.Store, prev images.Local, out types.ImageReference, logf func(string, ...any)) {
	if out.Transport().Name() == istorage.Transport.Name() {
		if _, img, err := istorage.ResolveReference(out); err == nil && img.ID == prev.Image.ID {
			return
		}
	}
	if _, err := store.DeleteImage(prev.Image.ID, true); err != nil {
		logf("warning: --rm: could not remove the previous image %.12s: %v", prev.Image.ID, err)
		return
	}
	logf("pys2i: removed the previous image %.12s", prev.Image.ID)
}

// dropInput reports whether rel (no leading "/") is one of the build's own
// inputs that never go into the image: the mounted pip cache, and the
// previous build's artifacts in DEST/artifacts (inputs like the source).
func dropInput(rel string, mounts []sandbox.Mount, incremental bool, dest string) bool {
	for _, m := range mounts {
		if underPath(rel, m.Target) {
			return true
		}
	}
	return incremental && underPath(rel, artifactsDir(dest))
}

// notIncremental is an --incremental build's previous image that is not
// there (or could not be had): the build goes on, not incremental, and
// says so once.
type notIncremental struct {
	name string
	err  error
}

func (e *notIncremental) Error() string {
	var none *images.NoImageError
	switch {
	case errors.As(e.err, &none) && len(none.Where) > 0:
		return fmt.Sprintf("pys2i: no previous image %s: this build is not incremental (%s)", e.name, strings.Join(none.Where, "; "))
	case errors.As(e.err, &none):
		return fmt.Sprintf("pys2i: no previous image %s: this build is not incremental", e.name)
	}
	return fmt.Sprintf("pys2i: the previous image %s could not be had: this build is not incremental: %v", e.name, e.err)
}
