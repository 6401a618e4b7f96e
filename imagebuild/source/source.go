// Package source prepares an application's source for a build: it copies a
// local directory as it is on disk (uncommitted changes included), or a git
// checkout of a ref, into a work directory that becomes the image's /tmp/src.
//
// As in s2i, --exclude leaves paths out of the copy, and the copy's
// .s2iignore then deletes what it lists.
//
// Copying never follows a symlink below the source root: links are copied as
// links (even one that points outside the source), so nothing outside the
// source tree is read or, by .s2iignore, deleted. Sockets, FIFOs and device
// files are skipped (and reported). A file named like a layer whiteout
// (".wh.*") is refused: in the image it would delete or hide content. Modes
// are kept (without setuid, setgid and sticky bits); Options.Owner gives
// everything to the assemble user, as s2i's upload does.
package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pys2i/pys2i/internal/redact"
)

// DefaultExclude is s2i's default --exclude: the .git directory and its contents.
const DefaultExclude = `(^|/)\.git(/|$)`

// Owner is the uid:gid every copied entry gets, as s2i's tar injection makes
// the source owned by the assemble user.
type Owner struct {
	UID, GID int
}

// Options say what to copy and how.
type Options struct {
	// Source is a local directory, or a git URL (scheme://... or scp-like
	// user@host:path), which is cloned.
	Source string
	// Ref, if set, is the git ref (branch, tag, SHA) to build: the source is
	// then a clean checkout of it, and the user's working tree is not touched.
	// Empty means the local directory as it is on disk (HEAD for a URL).
	Ref string
	// ContextDir is the subdirectory of the source that is the application root.
	ContextDir string
	// Exclude leaves out every entry whose slash-separated path relative to the
	// source root matches; nil excludes nothing. An excluded directory is left
	// out whole.
	Exclude *regexp.Regexp
	// Owner, if set, is given to every copied entry (needs root).
	Owner *Owner
	// IgnoreSubmodules skips "git submodule update --init --recursive" after a
	// checkout, as s2i's --ignore-submodules.
	IgnoreSubmodules bool
}

// Info describes what was copied, for the output image's labels.
type Info struct {
	// Location is the local path or the URL, credentials masked.
	Location   string
	ContextDir string
	// Git facts: set only for a git checkout (Ref or a URL source), as s2i
	// sets commit labels only for a clone.
	Ref     string // branch name, or "HEAD" when detached
	Commit  string // full SHA
	Author  string // "Name <email>"
	Date    string
	Message string // subject, at most 80 characters
	// Skipped lists the special files left out.
	Skipped []Special
}

// Special is a FIFO, socket or device file of the source, which is not
// copied: it can't be one in an image layer.
type Special struct {
	Path string // slash-separated, relative to the source root
	Kind string // "FIFO", "socket", "character device", "block device"
}

func (s Special) String() string { return s.Path + " (" + s.Kind + ")" }

// Prepare copies the source described by opt into dst, which is created and
// must not exist yet or be empty.
func Prepare(ctx context.Context, opt Options, dst string) (Info, error) {
	ctxDir, err := CleanContextDir(opt.ContextDir)
	if err != nil {
		return Info{}, err
	}
	if strings.HasPrefix(opt.Ref, "-") {
		return Info{}, fmt.Errorf("invalid --ref %q: a ref cannot start with '-'", opt.Ref)
	}
	kind := Classify(opt.Source)
	info := Info{Location: redact.URL(opt.Source), ContextDir: opt.ContextDir}
	if kind == Local {
		abs, err := Check(opt.Source)
		if err != nil {
			return Info{}, err
		}
		info.Location = abs
		if opt.Ref == "" {
			skipped, err := copyTree(ctx, abs, ctxDir, dst, opt)
			info.Skipped = skipped
			return info, err
		}
		if !isGitRepo(abs) {
			return Info{}, fmt.Errorf("--ref %s: source %s is not a git repository", opt.Ref, opt.Source)
		}
	}
	return checkout(ctx, opt, ctxDir, dst, info)
}

// Check returns the absolute path of a local source after checking that it
// is a directory; a URL is not checked (cloning will tell).
func Check(src string) (string, error) {
	if Classify(src) == Remote {
		return src, nil
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", fmt.Errorf("source %s: %w", src, err)
	}
	st, err := os.Stat(abs)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("source %s does not exist", src)
	}
	if err != nil {
		return "", fmt.Errorf("source %s: %w", src, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("source %s is not a directory", src)
	}
	return abs, nil
}

// Kind is what a source argument names.
type Kind int

const (
	Local  Kind = iota // a directory on this machine
	Remote             // a git URL to clone
)

var (
	urlRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
	// scp-like: [user@]host:path, where host has no slash (git's rule).
	scpRE = regexp.MustCompile(`^(?:[^@/]+@)?[^@/:]+:[^\\]`)
)

// Classify says whether src is a local path or a git URL, as s2i's git.Parse
// does: scheme:// and scp-like [user@]host:path are URLs; "./a:b" and "/a:b"
// are paths. file:// URLs are cloned too.
func Classify(src string) Kind {
	if urlRE.MatchString(src) {
		return Remote
	}
	if strings.HasPrefix(src, "/") || strings.HasPrefix(src, ".") {
		return Local
	}
	if scpRE.MatchString(src) {
		return Remote
	}
	return Local
}

// CleanContextDir returns dir cleaned and relative ("" for the root). As in
// s2i it is joined to the source, so a leading "/" is harmless; a ".." that
// leaves the source is an error.
func CleanContextDir(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	c := filepath.Clean(filepath.FromSlash(dir))
	c = strings.TrimPrefix(c, string(filepath.Separator))
	if c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("--context-dir %s leaves the source", dir)
	}
	if c == "." || c == "" {
		return "", nil
	}
	return c, nil
}
