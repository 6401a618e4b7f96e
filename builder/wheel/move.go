package wheel

import (
	"fmt"
	"os"
	"path/filepath"
)

// moveIntoPlace renames each unit's staged tree into the venv at root: a
// staged directory the venv lacks moves whole (one rename); one it has is
// entered (after checking it resolves inside the venv); a file replaces the
// venv's, which is kept aside and put back if a later step fails. On
// failure everything moved goes back, so the venv is as it was.
func moveIntoPlace(root string, units []*Unpacked) (err error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("venv %s: %w", root, err)
	}
	type moved struct{ from, to, backup string }
	var done []moved
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
	}()
	var move func(u *Unpacked, from, to string) error
	move = func(u *Unpacked, from, to string) error {
		ents, err := os.ReadDir(from)
		if err != nil {
			return err
		}
		for _, e := range ents {
			src, dst := filepath.Join(from, e.Name()), filepath.Join(to, e.Name())
			st, err := os.Lstat(dst)
			switch {
			case os.IsNotExist(err):
				if err := os.Rename(src, dst); err != nil {
					return err
				}
				done = append(done, moved{from: src, to: dst})
				continue
			case err != nil:
				return err
			}
			if e.IsDir() {
				if st.Mode()&os.ModeSymlink != 0 {
					if st, err = os.Stat(dst); err != nil {
						return err
					}
				}
				if !st.IsDir() {
					return fmt.Errorf("%s is not a directory", dst)
				}
				real, err := filepath.EvalSymlinks(dst)
				if err != nil {
					return err
				}
				if !within(realRoot, real) {
					return fmt.Errorf("%s leads outside the venv (to %s)", dst, real)
				}
				if err := move(u, src, dst); err != nil {
					return err
				}
				continue
			}
			if st.IsDir() {
				return fmt.Errorf("%s is a directory", dst)
			}
			if backupDir == "" {
				if backupDir, err = os.MkdirTemp(filepath.Dir(u.Stage), "replaced-"); err != nil {
					return err
				}
			}
			m := moved{from: src, to: dst, backup: filepath.Join(backupDir, fmt.Sprint(len(done)))}
			if err := os.Rename(dst, m.backup); err != nil {
				return err
			}
			if err := os.Rename(src, dst); err != nil {
				_ = os.Rename(m.backup, dst)
				return err
			}
			done = append(done, m)
		}
		return nil
	}
	for _, u := range units {
		if err := move(u, u.Stage, root); err != nil {
			return fmt.Errorf("install %s: %w", u.Project, err)
		}
	}
	return nil
}
