package buildpaths

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Tree normalizes every ELF file below root (a site-packages directory)
// that holds pip's random build directories, and updates the RECORD rows
// of the ones a wheel installed, so that pip's own checks still hold. It
// returns the files it changed, relative to root. Symlinks are never
// followed; files that are not ELF are only opened to read 4 bytes.
func Tree(root string) ([]string, error) {
	var changed []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		did, err := normalizeFile(p)
		if err != nil {
			return err
		}
		if did {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			changed = append(changed, rel)
		}
		return nil
	})
	if err != nil {
		return changed, fmt.Errorf("normalize build paths in %s: %w", root, err)
	}
	if len(changed) == 0 {
		return nil, nil
	}
	return changed, updateRecords(root, changed)
}

// normalizeFile rewrites the ELF file p in place if Normalize changes it:
// same length, same inode, owner and mode.
func normalizeFile(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil || !IsELF(head) {
		f.Close()
		return false, nil // shorter than 4 bytes, or not ELF
	}
	b, err := io.ReadAll(io.MultiReader(bytes.NewReader(head), f))
	f.Close()
	if err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	did, err := Normalize(b)
	if err != nil || !did {
		if err != nil {
			err = fmt.Errorf("%s: %w", p, err)
		}
		return false, err
	}
	return true, writeInPlace(p, b)
}

// writeInPlace overwrites p with b, keeping its inode (owner, mode, links).
// A read-only file (pip keeps a wheel's
// modes) is made writable for the owner while it is written.
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

// updateRecords updates the RECORD rows of the changed files (relative to
// root) in the *.dist-info directories directly in root.
func updateRecords(root string, changed []string) error {
	records, err := filepath.Glob(filepath.Join(root, "*.dist-info", "RECORD"))
	if err != nil {
		return err
	}
	sort.Strings(records)
	for _, rec := range records {
		st, err := os.Lstat(rec)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(rec)
		if err != nil {
			return recordError(rec, err)
		}
		out, any := b, false
		for _, rel := range changed {
			content, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				return recordError(rec, err)
			}
			var found bool
			if out, found = UpdateRecord(out, filepath.ToSlash(rel), content); found {
				any = true
			}
		}
		if any {
			if err := writeInPlace(rec, out); err != nil {
				return recordError(rec, err)
			}
		}
	}
	return nil
}
