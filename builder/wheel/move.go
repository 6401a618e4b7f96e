package wheel

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// moveIntoPlace renames every staged file to its place in the venv at
// root, creating directories as needed. A file already there is kept
// aside and put back if a later step fails: then every moved file goes
// back and the directories it created are removed, so the venv is as it
// was. A directory on the way that resolves (symlinks) outside the venv is
// an error.
func moveIntoPlace(root string, units []*Unpacked) (err error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("venv %s: %w", root, err)
	}
	type moved struct{ from, to, backup string }
	var done []moved
	var created []string
	backupDir := ""
	defer func() {
		if err == nil {
			return
		}
		for k := len(done) - 1; k >= 0; k-- {
			m := done[k]
			_ = os.Rename(m.to, m.from)
			if m.backup != "" {
				_ = os.Rename(m.backup, m.to)
			}
		}
		for k := len(created) - 1; k >= 0; k-- {
			_ = os.Remove(created[k])
		}
	}()
	mkdirs := func(dir string) error {
		var missing []string
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Lstat(d); err == nil {
				break
			}
			missing = append(missing, d)
			if d == root || filepath.Dir(d) == d {
				break
			}
		}
		for k := len(missing) - 1; k >= 0; k-- {
			if err := os.Mkdir(missing[k], 0o777); err != nil {
				return err
			}
			created = append(created, missing[k])
		}
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return err
		}
		if !within(realRoot, real) {
			return fmt.Errorf("%s leads outside the venv (to %s)", dir, real)
		}
		return nil
	}
	for _, u := range units {
		for _, rel := range u.Files {
			from := filepath.Join(u.Stage, rel)
			to := filepath.Join(root, rel)
			if strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
				return fmt.Errorf("install %s: %s is outside the venv", u.Project, rel)
			}
			if err := mkdirs(filepath.Dir(to)); err != nil {
				return fmt.Errorf("install %s: %w", u.Project, err)
			}
			m := moved{from: from, to: to}
			if st, err := os.Lstat(to); err == nil {
				if st.IsDir() {
					return fmt.Errorf("install %s: %s is a directory", u.Project, to)
				}
				if backupDir == "" {
					if backupDir, err = os.MkdirTemp(filepath.Dir(u.Stage), "replaced-"); err != nil {
						return fmt.Errorf("install %s: %w", u.Project, err)
					}
				}
				m.backup = filepath.Join(backupDir, fmt.Sprint(len(done)))
				if err := os.Rename(to, m.backup); err != nil {
					return fmt.Errorf("install %s: %w", u.Project, err)
				}
			}
			if err := os.Rename(from, to); err != nil {
				if m.backup != "" {
					_ = os.Rename(m.backup, to)
				}
				return fmt.Errorf("install %s: %w", u.Project, err)
			}
			done = append(done, m)
		}
	}
	return nil
}
