package imagebuild

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// User is the resolved assemble user.
type User struct {
	UID, GID uint32
	Home     string // from passwd; "" if the user has no entry
}

// lookupUser resolves spec ("name", "uid", "name:group", "uid:gid", or ""
// for root) against the image's /etc/passwd and /etc/group, read inside
// root so that no symlink there leads out. A numeric uid needs no entry; its
// gid is then the entry's, or 0 (the S2I convention: group 0 owns app files).
func lookupUser(root, spec string) (User, error) {
	if spec == "" {
		return User{Home: "/root"}, nil
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return User{}, fmt.Errorf("assemble user %q: %w", spec, err)
	}
	defer r.Close()
	name, group, hasGroup := strings.Cut(spec, ":")
	passwd, err := readDB(r, "etc/passwd")
	if err != nil {
		return User{}, fmt.Errorf("assemble user %q: %w", spec, err)
	}
	var u User
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		u.UID = uint32(n)
		for _, e := range passwd {
			if e[2] == name {
				u.GID, u.Home = parseID(e[3]), e[5]
				break
			}
		}
	} else {
		found := false
		for _, e := range passwd {
			if e[0] == name {
				u.UID, u.GID, u.Home, found = parseID(e[2]), parseID(e[3]), e[5], true
				break
			}
		}
		if !found {
			return User{}, fmt.Errorf("assemble user %q: no user %q in the builder's /etc/passwd", spec, name)
		}
	}
	if !hasGroup {
		return u, nil
	}
	if n, err := strconv.ParseUint(group, 10, 32); err == nil {
		u.GID = uint32(n)
		return u, nil
	}
	groups, err := readDB(r, "etc/group")
	if err != nil {
		return User{}, fmt.Errorf("assemble user %q: %w", spec, err)
	}
	for _, e := range groups {
		if e[0] == group {
			u.GID = parseID(e[2])
			return u, nil
		}
	}
	return User{}, fmt.Errorf("assemble user %q: no group %q in the builder's /etc/group", spec, group)
}

// readDB reads a colon-separated database (passwd: 7 fields, group: 4);
// short lines are padded, so fields can be indexed. A missing file is empty.
func readDB(r *os.Root, name string) ([][]string, error) {
	f, err := r.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read /%s: %w", name, err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ":")
		for len(fields) < 7 {
			fields = append(fields, "")
		}
		out = append(out, fields)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read /%s: %w", name, err)
	}
	return out, nil
}

func parseID(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}
