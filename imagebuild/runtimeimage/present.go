package runtimeimage

import (
	"io/fs"
	"path"
	"regexp"
	"syscall"
)

// pycName is a file CPython caches bytecode in: __pycache__/NAME.TAG.pyc,
// optionally .opt-N before .pyc (PEP 3147, PEP 488).
var pycName = regexp.MustCompile(`^(.+?)\.[a-z]+-[0-9]+(\.opt-[0-9]+)?\.pyc$`)

// PycSource is the source a cached bytecode file is compiled from:
// "pkg/__pycache__/mod.cpython-311.pyc" gives "pkg/mod.py". ok is false
// for any other path.
func PycSource(p string) (string, bool) {
	dir, base := path.Split(p)
	if path.Base(dir) != "__pycache__" {
		return "", false
	}
	m := pycName.FindStringSubmatch(base)
	if m == nil {
		return "", false
	}
	return path.Join(path.Dir(path.Clean(dir)), m[1]+".py"), true
}

// FileFacts is what decides whether two files are the same for an image:
// type and permission bits, owner, and for a symlink its target. Size is
// compared before any content is read.
type FileFacts struct {
	Mode     fs.FileMode
	UID, GID uint32
	Size     int64
	Target   string // a symlink's
}

// Facts reads FileFacts from an Lstat result and, for a symlink, its target.
func Facts(fi fs.FileInfo, target string) FileFacts {
	f := FileFacts{Mode: fi.Mode() & (fs.ModeType | fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky), Size: fi.Size(), Target: target}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		f.UID, f.GID = st.Uid, st.Gid
	}
	return f
}

// SameKind reports whether two files can be the same: both regular files
// or both symlinks, with equal modes, owners and sizes, and equal targets
// for symlinks. Regular files must then have equal content
// (layer.SameContent).
func SameKind(a, b FileFacts) bool {
	if a.Mode != b.Mode || a.UID != b.UID || a.GID != b.GID {
		return false
	}
	switch a.Mode.Type() {
	case 0:
		return a.Size == b.Size
	case fs.ModeSymlink:
		return a.Target == b.Target
	}
	return false
}
