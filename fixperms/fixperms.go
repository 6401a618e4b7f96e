// Package fixperms grants group 0 the owner's permissions so that an image runs
// under an arbitrary UID, as the upstream fix-permissions script does
// (container-common-scripts shared-scripts/core/usr/bin/fix-permissions):
//
//	find $OPT PATH [-uid U] ! -gid 0 -exec chgrp 0 {} +
//	find $OPT PATH [-uid U] ! -perm -g+rw -exec chmod g+rw {} +
//	find $OPT PATH [-uid U] -perm /u+x -a ! -perm /g+x -exec chmod g+x {} +
//	find $OPT PATH [-uid U] -type d ! -perm /g+x -exec chmod g+x {} +
//
// The four passes are done in one walk of the tree, in Go: each entry is
// examined once, and changed only when it needs to be (no copy-up of
// untouched files into a new layer).
package fixperms

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unicode"

	"golang.org/x/sys/unix"
)

// Follow says how symbolic links are treated, as find's -P, -L and -H.
type Follow int

const (
	// Physical (-P) never follows symbolic links.
	Physical Follow = iota
	// Logical (-L) follows every symbolic link (the script's default).
	Logical
	// CommandLine (-H) follows only the path given on the command line.
	CommandLine
)

// Options configures Fix.
type Options struct {
	Follow Follow
	// Owner restricts changes to entries owned by this UID (what the script
	// does when it does not run as root); -1 means every entry.
	Owner int
	// Stderr receives the errors find, chgrp and chmod would print; nil
	// discards them.
	Stderr io.Writer
}

// Stats counts what Fix did.
type Stats struct {
	Visited, Chgrp, Chmod, Errors int
}

// Change is what one entry needs: a new group (always 0) and/or a new mode.
type Change struct {
	Chgrp bool
	Chmod bool
	Mode  uint32 // the permission bits (07777) after the chmod
}

// Decide is the four passes' verdict for one entry: its owner, group, mode
// (the st_mode bits, type included, of what find examined: the link itself
// under -P) and whether it is owned by the caller when that matters.
func Decide(uid, gid uint32, mode uint32, owner int) Change {
	var c Change
	if owner >= 0 && uid != uint32(owner) {
		return c
	}
	if gid != 0 {
		c.Chgrp = true
	}
	if mode&unix.S_IFMT == unix.S_IFLNK {
		// A link's own mode is 0777: no -perm test matches it. (chgrp
		// without -h changes the target's group, which Fix replicates.)
		return c
	}
	perm := mode & 0o7777
	next := perm | 0o060 // pass 2: g+rw
	if perm&0o100 != 0 || mode&unix.S_IFMT == unix.S_IFDIR {
		next |= 0o010 // passes 3 and 4: g+x where u+x, and on directories
	}
	if next != perm {
		c.Chmod, c.Mode = true, next
	}
	return c
}

// ParseArgs reads the script's arguments: PATH [SYMLINK_OPT], SYMLINK_OPT
// defaulting to -L.
func ParseArgs(args []string) (path string, follow Follow, err error) {
	if len(args) > 0 {
		path = args[0]
	}
	opt := "-L"
	if len(args) > 1 && args[1] != "" {
		opt = args[1]
	}
	switch opt {
	case "-P":
		follow = Physical
	case "-L":
		follow = Logical
	case "-H":
		follow = CommandLine
	default:
		return path, Logical, fmt.Errorf("find: unknown predicate `%s'", opt)
	}
	return path, follow, nil
}

// Main is the fix-permissions program: it never fails (exit status 0), as
// upstream; errors go to stderr.
func Main(args []string, stderr io.Writer) int {
	path, follow, err := ParseArgs(args)
	if _, serr := os.Stat(path); path == "" || serr != nil {
		// [ -e "$1" ] follows links: a dangling one counts as missing.
		fmt.Fprintf(stderr, "ERROR: File or directory %s does not exist.\n", path)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 0
	}
	owner := -1
	if uid := os.Geteuid(); uid != 0 {
		owner = uid
	}
	Fix(path, Options{Follow: follow, Owner: owner, Stderr: stderr})
	return 0
}

// Fix applies the four passes to path and everything below it.
func Fix(path string, opt Options) Stats {
	f := &fixer{opt: opt, stderr: opt.Stderr, sem: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
	if f.stderr == nil {
		f.stderr = io.Discard
	}
	follow := opt.Follow != Physical
	dir, base := filepath.Split(filepath.Clean(path))
	if dir == "" {
		dir = "."
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		f.errorf("find: '%s': %v", path, errText(err))
		return Stats{Errors: 1}
	}
	defer unix.Close(dfd)
	if base == "/" || base == "" {
		base = "."
	}
	f.visit(dfd, base, path, follow, nil)
	return Stats{Visited: int(f.visited.Load()), Chgrp: int(f.chgrp.Load()), Chmod: int(f.chmod.Load()), Errors: int(f.errors.Load())}
}

// fixer walks the tree; directories are handed to other goroutines while
// sem has room (the walk is bound by syscall latency, so it scales with
// cores), else walked inline.
type fixer struct {
	opt                           Options
	stderr                        io.Writer
	mu                            sync.Mutex // serializes stderr
	sem                           chan struct{}
	visited, chgrp, chmod, errors atomic.Int64
}

type devIno struct{ dev, ino uint64 }

func (f *fixer) errorf(format string, a ...any) {
	f.errors.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(f.stderr, format+"\n", a...)
}

// visit fixes the entry name in the directory dfd (shown as path), then its
// children when it is a directory. follow says whether a link here is
// followed; ancestors are the directories above (for -L loop detection).
func (f *fixer) visit(dfd int, name, path string, follow bool, ancestors []devIno) {
	var st unix.Stat_t
	flags := unix.AT_SYMLINK_NOFOLLOW
	if follow {
		flags = 0
	}
	err := unix.Fstatat(dfd, name, &st, flags)
	if err != nil && follow && errors.Is(err, unix.ENOENT) {
		// find -L examines a dangling link as the link itself.
		err = unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if err != nil {
		f.errorf("find: '%s': %v", path, errText(err))
		return
	}
	f.visited.Add(1)
	f.fix(dfd, name, path, flags, st)
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		f.visitChildren(dfd, name, path, follow, devIno{st.Dev, st.Ino}, ancestors)
	}
}

// fix changes the group and mode of one entry as Decide says, as chgrp and
// chmod would (their messages on failure).
func (f *fixer) fix(dfd int, name, path string, flags int, st unix.Stat_t) {
	c := Decide(st.Uid, st.Gid, st.Mode, f.opt.Owner)
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if c.Chgrp && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		// chgrp dereferences: for a link under -P it changes the target's
		// group (the link's own stays). Skip the no-op when the target is
		// already in group 0, so nothing is touched for nothing.
		var tst unix.Stat_t
		if err := unix.Fstatat(dfd, name, &tst, 0); err != nil {
			f.errorf("chgrp: cannot dereference '%s': %v", path, errText(err))
			c.Chgrp = false
		} else if tst.Gid == 0 {
			c.Chgrp = false
		}
	}
	if c.Chgrp {
		if err := unix.Fchownat(dfd, name, -1, 0, 0); err != nil {
			f.errorf("chgrp: changing group of '%s': %v", path, errText(err))
		} else {
			f.chgrp.Add(1)
			if c.Chmod && !isDir && st.Mode&(unix.S_ISUID|unix.S_ISGID) != 0 {
				// chown may have cleared set-ID bits: chmod g+rw starts
				// from the mode as it is now.
				var now unix.Stat_t
				if unix.Fstatat(dfd, name, &now, flags) == nil {
					c = Decide(st.Uid, 0, now.Mode, f.opt.Owner)
				}
			}
		}
	}
	if c.Chmod {
		if err := unix.Fchmodat(dfd, name, c.Mode, 0); err != nil {
			f.errorf("chmod: changing permissions of '%s': %v", path, errText(err))
		} else {
			f.chmod.Add(1)
		}
	}
}

// visitChildren visits the entries of the directory name (id), the
// subdirectories on other goroutines while the semaphore has room.
func (f *fixer) visitChildren(dfd int, name, path string, follow bool, id devIno, ancestors []devIno) {
	for _, a := range ancestors {
		if a == id {
			f.errorf("find: File system loop detected; '%s' is part of the same file system loop as an ancestor.", path)
			return
		}
	}
	oflags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if !follow {
		oflags |= unix.O_NOFOLLOW
	}
	fd, err := unix.Openat(dfd, name, oflags, 0)
	if err != nil {
		f.errorf("find: '%s': %v", path, errText(err))
		return
	}
	d := os.NewFile(uintptr(fd), path)
	ents, err := d.ReadDir(-1)
	if err != nil {
		f.errorf("find: '%s': %v", path, errText(err))
	}
	childFollow := f.opt.Follow == Logical
	if childFollow {
		ancestors = append(ancestors[:len(ancestors):len(ancestors)], id)
	}
	var children sync.WaitGroup // fd stays open until they are done
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() {
			f.visit(fd, n, joinPath(path, n), childFollow, ancestors)
			continue
		}
		select {
		case f.sem <- struct{}{}:
			children.Add(1)
			go func() {
				defer func() { <-f.sem; children.Done() }()
				f.visit(fd, n, joinPath(path, n), childFollow, ancestors)
			}()
		default:
			f.visit(fd, n, joinPath(path, n), childFollow, ancestors)
		}
	}
	children.Wait()
	d.Close()
}

// joinPath names a child as find does ("dir/name", "./name").
func joinPath(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// errText is the strerror text coreutils and find print.
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := []rune(errno.Error())
		if len(s) > 0 {
			s[0] = unicode.ToUpper(s[0])
		}
		return string(s)
	}
	return err.Error()
}
