package source

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// IgnoreFile lists paths to delete from the prepared source, as s2i's
// .s2iignore: one glob per line, relative to the source root and not
// recursive ("*.pyc" is only the top level); '#' starts a comment; "!glob"
// keeps paths that earlier lines selected.
const IgnoreFile = ".s2iignore"

// Ignored returns which of entries (slash-separated paths relative to the
// root) the .s2iignore lines select, sorted. Matching is path.Match on the
// whole path, which is what s2i's filepath.Glob does inside the tree; but
// unlike Glob it never looks through a symlink or outside the root.
func Ignored(lines, entries []string) []string {
	selected := map[string]bool{}
	for _, l := range lines {
		l = strings.Trim(l, " ")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		keep := strings.HasPrefix(l, "!")
		pat, ok := cleanPattern(strings.TrimPrefix(l, "!"))
		if !ok {
			continue
		}
		if keep {
			for c := range selected {
				if m, _ := path.Match(pat, c); m {
					delete(selected, c)
				}
			}
			continue
		}
		for _, e := range entries {
			if m, _ := path.Match(pat, e); m {
				selected[e] = true
			}
		}
	}
	out := make([]string, 0, len(selected))
	for e := range selected {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// cleanPattern makes a line relative to the root as s2i's filepath.Join
// does; a pattern that leaves the root selects nothing.
func cleanPattern(p string) (string, bool) {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" || p == "." {
		return "", false // s2i would select the whole source
	}
	return p, true
}

// readIgnore returns the lines of dir's .s2iignore; none when there is none.
func readIgnore(dir string) ([]string, error) {
	f, err := os.OpenFile(filepath.Join(dir, IgnoreFile), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symlink, which is not followed", IgnoreFile)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", IgnoreFile, err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", IgnoreFile, err)
	}
	return lines, nil
}

// applyIgnore deletes from dir what its .s2iignore selects.
func applyIgnore(dir string) error {
	lines, err := readIgnore(dir)
	if err != nil || lines == nil {
		return err
	}
	var entries []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		entries = append(entries, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		return fmt.Errorf("apply %s: %w", IgnoreFile, err)
	}
	for _, rel := range Ignored(lines, entries) {
		// RemoveAll removes a symlink itself, never what it points to.
		if err := os.RemoveAll(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			return fmt.Errorf("apply %s: %w", IgnoreFile, err)
		}
	}
	return nil
}
