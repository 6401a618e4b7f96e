package imagebuild

import (
	"os"
	"path"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/pys2i/pys2i/imagebuild/layer"
	"github.com/pys2i/pys2i/imagebuild/runtimeimage"
)

// presentInRuntime leaves out of the runtime layers the files the runtime
// image has already at the same path, byte for byte, with the same mode
// and owner: above all the venv's pip and setuptools, made from the same
// wheels in the builder and the runtime image (about 24 MB). Their bytes
// are then the runtime image's, as they would be after the copy, and
// their times too. A cached bytecode file goes with its source: it is left
// out when its source is and the runtime image has it, so that each pair
// comes whole from one image and a timestamp pyc stays true to its source.
type presentInRuntime struct {
	root string          // the runtime image's root
	same map[string]bool // by path in the image
}

func newPresentInRuntime(root string) *presentInRuntime {
	return &presentInRuntime{root: root, same: map[string]bool{}}
}

// exclude reports whether the builder's file host, bound for dest in the
// runtime image, is left out.
func (p *presentInRuntime) exclude(host, dest string) bool {
	if src, ok := runtimeimage.PycSource(dest); ok {
		srcHost := filepath.Join(filepath.Dir(filepath.Dir(host)), path.Base(src))
		_, err := p.lstat(dest)
		return err == nil && p.sameFile(srcHost, src)
	}
	return p.sameFile(host, dest)
}

func (p *presentInRuntime) sameFile(host, dest string) bool {
	if v, ok := p.same[dest]; ok {
		return v
	}
	v := p.compare(host, dest)
	p.same[dest] = v
	return v
}

// sameDir reports whether the builder's directory host is at dest in the
// runtime image already, with the same mode and owner (its time is not
// compared: the layer's entries are what matter).
func (p *presentInRuntime) sameDir(host, dest string) bool {
	inImage, err := p.lstat(dest)
	if err != nil {
		return false
	}
	a, errA := os.Lstat(host)
	b, errB := os.Lstat(inImage)
	if errA != nil || errB != nil || !a.IsDir() || !b.IsDir() {
		return false
	}
	fa, fb := runtimeimage.Facts(a, ""), runtimeimage.Facts(b, "")
	return fa.Mode == fb.Mode && fa.UID == fb.UID && fa.GID == fb.GID
}

// compare is false on any doubt (an error reading either file).
func (p *presentInRuntime) compare(host, dest string) bool {
	inImage, err := p.lstat(dest)
	if err != nil {
		return false
	}
	facts := func(name string) (runtimeimage.FileFacts, bool) {
		fi, err := os.Lstat(name)
		if err != nil {
			return runtimeimage.FileFacts{}, false
		}
		target := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if target, err = os.Readlink(name); err != nil {
				return runtimeimage.FileFacts{}, false
			}
		}
		return runtimeimage.Facts(fi, target), true
	}
	a, okA := facts(host)
	b, okB := facts(inImage)
	if !okA || !okB || !runtimeimage.SameKind(a, b) {
		return false
	}
	if a.Mode&os.ModeSymlink != 0 {
		return true
	}
	same, err := layer.SameContent(host, inImage)
	return err == nil && same
}

// lstat is the host path of dest in the runtime image, which must exist:
// its parent resolved inside the root (a symlink never leads out of it),
// its last element not followed.
func (p *presentInRuntime) lstat(dest string) (string, error) {
	dir, err := securejoin.SecureJoin(p.root, path.Dir(dest))
	if err != nil {
		return "", err
	}
	name := filepath.Join(dir, path.Base(dest))
	if _, err := os.Lstat(name); err != nil {
		return "", err
	}
	return name, nil
}
