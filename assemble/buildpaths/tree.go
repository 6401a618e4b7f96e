package buildpaths

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Venv normalizes the ELF files of the venv at root that pip installs:
// those below its site-packages and its bin (programs such as uwsgi's),
// and updates the RECORD rows of the ones a wheel installed, so that
// pip's records still hold. It returns the files it changed, relative to
// root. Symlinks are never followed (bin/python points out of the venv);
// files that are not ELF are only opened to read 4 bytes.
func Venv(root string) ([]string, error) {
	sitePackages, err := filepath.Glob(filepath.Join(root, "lib", "python3*", "site-packages"))
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, dir := range append(sitePackages, filepath.Join(root, "bin")) {
		c, err := tree(dir)
		changed = append(changed, c...)
		if err != nil {
			return rel(root, changed), err
		}
	}
	for _, sp := range sitePackages {
		if err := updateRecords(sp, changed); err != nil {
			return rel(root, changed), err
		}
	}
	return rel(root, changed), nil
}

// tree normalizes the ELF files below dir (missing is fine) and returns
// the paths of those it changed.
func tree(dir string) ([]string, error) {
	var changed []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if !d.Type().IsRegular() || !mayBeELF(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() < 4 {
			return nil
		}
		did, err := normalizeFile(p, info.Size())
		if did {
			changed = append(changed, p)
		}
		return err
	})
	if err != nil {
		return changed, fmt.Errorf("normalize build paths in %s: %w", dir, err)
	}
	return changed, nil
}

// notELF are the suffixes of files a venv holds by the thousand that are
// never ELF: they are not even opened.
var notELF = []string{".py", ".pyc", ".pyi", ".pyx", ".pxd", ".h", ".c", ".txt", ".json", ".html", ".js",
	".css", ".md", ".rst", ".typed", ".cfg", ".toml", ".ini", ".csv", ".png", ".svg", ".gif", ".jpg",
	".mo", ".po", ".xml", ".yaml", ".yml", ".pem", "RECORD", "METADATA", "WHEEL", "LICENSE"}

// mayBeELF reports whether a file named name is worth opening.
func mayBeELF(name string) bool {
	for _, s := range notELF {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// rel makes paths relative to root.
func rel(root string, paths []string) []string {
	var out []string
	for _, p := range paths {
		if r, err := filepath.Rel(root, p); err == nil {
			p = r
		}
		out = append(out, p)
	}
	return out
}

// normalizeFile rewrites the ELF file p in place if Normalize changes it:
// same length, same inode, owner and mode.
func normalizeFile(p string, size int64) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil || !IsELF(head) {
		return false, nil // shorter than 4 bytes, or not ELF
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), b); err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	f.Close()
	did, err := Normalize(b)
	if err != nil {
		return false, fmt.Errorf("%s: %w", p, err)
	}
	if !did {
		return false, nil
	}
	return true, writeInPlace(p, b)
}

// writeInPlace overwrites p with b, keeping its inode (owner, mode, links).
// A read-only file (pip keeps a wheel's modes) is made writable for the
// owner while it is written.
func writeInPlace(p string, b []byte) error {
	st, err := os.Lstat(p)
	if err != nil {
		return err
	}
	mode := st.Mode().Perm()
	if mode&0o200 == 0 {
		if err := os.Chmod(p, mode|0o200); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		defer os.Chmod(p, mode)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// updateRecords updates the RECORD rows of the changed files in the
// *.dist-info directories directly in sitePackages: RECORD names files
// relative to it ("../../../bin/uwsgi" for a program). A dist-info that is
// a symlink is not pip's and is left alone.
func updateRecords(sitePackages string, changed []string) error {
	if len(changed) == 0 {
		return nil
	}
	type row struct {
		path, hash string
		size       int
	}
	rows := make([]row, 0, len(changed))
	for _, p := range changed {
		content, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("update RECORD: %w", err)
		}
		r, err := filepath.Rel(sitePackages, p)
		if err != nil {
			return fmt.Errorf("update RECORD: %w", err)
		}
		rows = append(rows, row{filepath.ToSlash(r), RecordHash(content), len(content)})
	}
	records, err := filepath.Glob(filepath.Join(sitePackages, "*.dist-info", "RECORD"))
	if err != nil {
		return err
	}
	sort.Strings(records)
	for _, rec := range records {
		if !regularIn(rec) {
			continue
		}
		b, err := os.ReadFile(rec)
		if err != nil {
			return fmt.Errorf("update %s: %w", rec, err)
		}
		out, any := b, false
		for _, r := range rows {
			var found bool
			if out, found = UpdateRecord(out, r.path, r.hash, r.size); found {
				any = true
			}
		}
		if any {
			if err := writeInPlace(rec, out); err != nil {
				return fmt.Errorf("update %s: %w", rec, err)
			}
		}
	}
	return nil
}

// regularIn reports whether rec is a regular file in a real directory:
// neither it nor its dist-info is a symlink.
func regularIn(rec string) bool {
	dir, err := os.Lstat(filepath.Dir(rec))
	if err != nil || !dir.IsDir() {
		return false
	}
	st, err := os.Lstat(rec)
	return err == nil && st.Mode().IsRegular()
}
