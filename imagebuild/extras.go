package imagebuild

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/imagebuild/sandbox/capability"
	"github.com/pys2i/pys2i/internal/copyfile"
)

// extras are what the sandbox and integration flags add to a build:
// injected files, volumes, the network, dropped capabilities, extra hosts.
type extras struct {
	root     string   // the container's root on the host
	injected []string // files --inject wrote, relative to root
	drop     []string // paths left out of the image (and what is below them)
	mounts   []sandbox.Mount
	isolate  bool
	caps     []int
	hosts    []sandbox.HostEntry
}

// prepareExtras checks the flags' inputs and injects the --inject files
// into the container at root (owned by uid:gid, readable by them only);
// workdir is the builder's WORKDIR, for relative injections.
func prepareExtras(o options.Options, root, workdir string, uid, gid int) (*extras, error) {
	ex := &extras{root: root, isolate: o.Network == options.NetworkNone}
	var err error
	if ex.caps, err = capability.Numbers(o.CapDrop); err != nil {
		return nil, fmt.Errorf("--cap-drop: %w", err)
	}
	ex.hosts = append(ex.hosts, o.AddHosts...)
	for _, v := range o.Volumes {
		if _, err := os.Stat(v.Source); err != nil {
			return nil, fmt.Errorf("--volume %s:%s: %w", v.Source, v.Target, err)
		}
		created, err := firstMissing(root, v.Target)
		if err != nil {
			return nil, fmt.Errorf("--volume %s:%s: %w", v.Source, v.Target, err)
		}
		if created != "" {
			// The sandbox creates the mount point in the container: not
			// part of the image.
			ex.drop = append(ex.drop, created)
		}
		ex.mounts = append(ex.mounts, v)
	}
	if len(o.Injections) == 0 {
		return ex, nil
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("--inject: %w", err)
	}
	defer r.Close()
	if workdir == "" {
		workdir = "/"
	}
	for _, in := range o.Injections {
		if err := ex.inject(r, in, workdir, uid, gid); err != nil {
			return nil, fmt.Errorf("--inject %s:%s: %w", in.Source, in.Destination, err)
		}
	}
	return ex, nil
}

// apply puts the flags into the sandbox's spec.
func (ex *extras) apply(s *sandbox.Spec) {
	s.Mounts = append(s.Mounts, ex.mounts...)
	s.IsolateNetwork = ex.isolate
	s.CapDrop = ex.caps
	s.ExtraHosts = ex.hosts
}

// dropped reports whether rel (a path in the container's changes) is left
// out of the image: injected files and the directories an injection or a
// volume created, with everything below them.
func (ex *extras) dropped(rel string) bool {
	for _, d := range ex.drop {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// truncateInjected empties the injected files that are still regular
// files, as s2i does after assemble, so that their content is gone from
// the container at once (they are left out of the image anyway).
func (ex *extras) truncateInjected() error {
	if len(ex.injected) == 0 {
		return nil
	}
	r, err := os.OpenRoot(ex.root)
	if err != nil {
		return fmt.Errorf("--inject: truncate: %w", err)
	}
	defer r.Close()
	var errs []error
	for _, rel := range ex.injected {
		fi, err := r.Lstat(rel)
		if err != nil || !fi.Mode().IsRegular() {
			continue // removed or replaced by assemble: nothing of ours there
		}
		f, err := r.OpenFile(rel, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			errs = append(errs, fmt.Errorf("--inject: truncate /%s: %w", rel, err))
			continue
		}
		f.Close()
	}
	return errors.Join(errs...)
}

// inject copies one --inject source into the container: a file into the
// destination directory, a directory's contents (symlinks followed, as s2i
// does: a Kubernetes secret volume is made of them) into it. The
// destination directory must exist in the image, as in s2i.
func (ex *extras) inject(r *os.Root, in options.Injection, workdir string, uid, gid int) error {
	src, err := filepath.Abs(in.Source)
	if err != nil {
		return err
	}
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	dst := in.Destination
	switch {
	case dst == "" || dst == ".":
		dst = workdir
	case !path.IsAbs(dst):
		dst = path.Join(workdir, dst)
	}
	resolved, err := securejoin.SecureJoin(ex.root, dst)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(ex.root, resolved)
	if err != nil {
		return err
	}
	if st, err := r.Stat(rel); err != nil || !st.IsDir() {
		return fmt.Errorf("the destination directory %s must exist in the builder image", dst)
	}
	if !fi.IsDir() {
		return ex.copyFile(r, src, filepath.Join(rel, filepath.Base(src)), uid, gid)
	}
	return ex.copyDir(r, src, rel, uid, gid, 0)
}

func (ex *extras) copyDir(r *os.Root, src, rel string, uid, gid, depth int) error {
	if depth > 64 {
		return fmt.Errorf("%s: too deep (a symlink loop?)", src)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		from, to := filepath.Join(src, e.Name()), filepath.Join(rel, e.Name())
		fi, err := os.Stat(from) // symlinks followed
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			if err := ex.copyFile(r, from, to, uid, gid); err != nil {
				return err
			}
			continue
		}
		st, err := r.Lstat(to)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := r.Mkdir(to, 0o700); err != nil {
				return err
			}
			if err := r.Chown(to, uid, gid); err != nil {
				return err
			}
			ex.drop = append(ex.drop, to)
		case err != nil:
			return err
		case !st.IsDir():
			return fmt.Errorf("/%s exists in the builder image and is not a directory", to)
		}
		if err := ex.copyDir(r, from, to, uid, gid, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies a host file to rel in the container, readable by the
// assemble user only. An existing image file there is replaced for the
// build (the image keeps its own); anything but a regular file is refused.
func (ex *extras) copyFile(r *os.Root, from, rel string, uid, gid int) error {
	if !fileMode(from).IsRegular() {
		return fmt.Errorf("%s is not a regular file or directory", from)
	}
	if st, err := r.Lstat(rel); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("/%s exists in the builder image and is not a regular file", rel)
	}
	if err := copyfile.Copy(from, false, func() (*os.File, error) {
		out, err := r.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err == nil {
			ex.injected = append(ex.injected, rel)
			ex.drop = append(ex.drop, rel)
		}
		return out, err
	}); err != nil {
		return err
	}
	if err := r.Chmod(rel, 0o600); err != nil {
		return err
	}
	return r.Chown(rel, uid, gid)
}

func fileMode(p string) fs.FileMode {
	fi, err := os.Stat(p)
	if err != nil {
		return fs.ModeIrregular
	}
	return fi.Mode()
}

// firstMissing returns the topmost component of target (a path inside
// root, symlinks resolved within it) that does not exist, relative to
// root; "" if target exists.
func firstMissing(root, target string) (string, error) {
	resolved, err := securejoin.SecureJoin(root, target)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, resolved)
	if err != nil {
		return "", err
	}
	cur := ""
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		if _, err := os.Lstat(filepath.Join(root, cur)); errors.Is(err, fs.ErrNotExist) {
			return cur, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", nil
}
