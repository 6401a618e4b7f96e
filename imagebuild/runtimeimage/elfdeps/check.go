package elfdeps

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Problem is one thing the image lacks.
type Problem struct {
	// Missing is what is missing: a library's name as DT_NEEDED spells it
	// (Library true), or an interpreter's path in the image.
	Missing string
	Library bool
	// NeededBy is the image path of the file that needs it (an ELF file,
	// or a venv's bin/python or pyvenv.cfg).
	NeededBy string
	// Role says what a missing program is to NeededBy ("the Python
	// interpreter of"); Detail says more ("pyvenv.cfg home, a directory").
	Role, Detail string
}

// Roles of missing programs.
const (
	RolePython  = "the Python interpreter of"
	RoleLoader  = "the dynamic loader (ELF interpreter) of"
	RoleHTTPD   = "the web server that mod_wsgi-express starts, named in"
	RoleModules = "the Apache modules directory that mod_wsgi-express loads from, named in"
)

func (p Problem) String() string {
	if p.Library {
		return fmt.Sprintf("lacks %s needed by %s", p.Missing, p.NeededBy)
	}
	s := fmt.Sprintf("lacks %s, %s %s", p.Missing, p.Role, p.NeededBy)
	if p.Detail != "" {
		s += " (" + p.Detail + ")"
	}
	return s
}

// Options tune the search.
type Options struct {
	// LibraryPath is the image's LD_LIBRARY_PATH, split.
	LibraryPath []string
}

// Check looks at every file under the image paths dirs (the copied
// artifacts): each venv (pyvenv.cfg) must have its interpreter, and each
// ELF file's needed libraries must be found, transitively. Problems are
// sorted and unique per (missing, needed-by).
func Check(r Root, dirs []string, opt Options) ([]Problem, error) {
	c := &checker{r: r, opt: opt, seen: map[string]bool{}, probs: map[Problem]bool{}}
	conf, err := ldConfDirs(r)
	if err != nil {
		return nil, err
	}
	c.confDirs = conf
	for _, d := range dirs {
		if err := c.walk(path.Clean(d)); err != nil {
			return nil, err
		}
	}
	out := make([]Problem, 0, len(c.probs))
	for p := range c.probs {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Missing != out[j].Missing {
			return out[i].Missing < out[j].Missing
		}
		return out[i].NeededBy < out[j].NeededBy
	})
	return out, nil
}

type checker struct {
	r        Root
	opt      Options
	confDirs []string
	seen     map[string]bool // resolved ELF paths already checked
	probs    map[Problem]bool
}

// walk visits p (not following a symlink at p itself: a link in the
// artifacts is checked where it points only if it is a venv's python).
func (c *checker) walk(p string) error {
	fi, err := c.r.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case fi.IsDir():
		names, err := c.r.ReadDir(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		for _, n := range names {
			if err := c.walk(path.Join(p, n)); err != nil {
				return err
			}
		}
	case fi.Mode().IsRegular():
		if path.Base(p) == "pyvenv.cfg" {
			return c.venv(p)
		}
		// mod_wsgi 6 writes it into mod_wsgi/express, 5 and older into mod_wsgi/server.
		if strings.HasSuffix(p, "/mod_wsgi/server/apxs_config.py") || strings.HasSuffix(p, "/mod_wsgi/express/apxs_config.py") {
			return c.modWSGI(p)
		}
		if fi.Size() >= 64 {
			return c.elfFile(p, p)
		}
	}
	return nil
}

// venv checks a venv's interpreter: pyvenv.cfg's home (a directory) and
// executable, and what bin/python points to.
func (c *checker) venv(cfg string) error {
	f, err := c.r.Open(cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg, err)
	}
	keys := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok {
			keys[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", cfg, err)
	}
	if home := keys["home"]; home != "" {
		if res, ok, err := Resolve(c.r, home); err != nil {
			return err
		} else if !ok || !c.isDir(res) {
			c.probs[Problem{Missing: home, NeededBy: cfg, Role: RolePython, Detail: "pyvenv.cfg home, a directory"}] = true
		}
	}
	if exe := keys["executable"]; exe != "" {
		if err := c.program(exe, cfg, RolePython, "pyvenv.cfg executable"); err != nil {
			return err
		}
	}
	dir := path.Dir(cfg)
	for _, name := range []string{"python", "python3"} {
		py := path.Join(dir, "bin", name)
		if _, err := c.r.Lstat(py); err != nil {
			continue
		}
		if err := c.program(py, py, RolePython, ""); err != nil {
			return err
		}
	}
	return nil
}

// program checks that p resolves to a regular file and checks it as an
// ELF file.
func (c *checker) program(p, by, role, detail string) error {
	res, ok, err := Resolve(c.r, p)
	if err != nil {
		return err
	}
	if !ok || !c.isRegular(res) {
		c.probs[Problem{Missing: res, NeededBy: by, Role: role, Detail: detail}] = true
		return nil
	}
	return c.elfFile(res, res)
}

func (c *checker) isDir(p string) bool {
	fi, err := c.r.Lstat(p)
	return err == nil && fi.IsDir()
}

func (c *checker) isRegular(p string) bool {
	fi, err := c.r.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

// elfInfo is what the loader reads of an ELF file.
type elfInfo struct {
	class   elf.Class
	machine elf.Machine
	interp  string
	needed  []string
	rpath   []string // DT_RPATH, used only without DT_RUNPATH
	runpath []string
}

// readELF returns nil for a file that is not ELF or has no dynamic section.
func (c *checker) readELF(p string) (*elfInfo, error) {
	f, err := c.r.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || !bytes.Equal(magic[:], []byte(elf.ELFMAG)) {
		return nil, nil
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, nil // not an ELF file we can read: not ours to judge
	}
	defer ef.Close()
	info := &elfInfo{class: ef.Class, machine: ef.Machine}
	for _, prog := range ef.Progs {
		if prog.Type == elf.PT_INTERP {
			b, err := io.ReadAll(prog.Open())
			if err == nil {
				info.interp = strings.TrimRight(string(b), "\x00")
			}
		}
	}
	if ef.Section(".dynamic") == nil && ef.SectionByType(elf.SHT_DYNAMIC) == nil {
		return info, nil
	}
	if info.needed, err = ef.DynString(elf.DT_NEEDED); err != nil {
		return nil, fmt.Errorf("%s: DT_NEEDED: %w", p, err)
	}
	rp, _ := ef.DynString(elf.DT_RPATH)
	rn, _ := ef.DynString(elf.DT_RUNPATH)
	info.rpath, info.runpath = splitPaths(rp), splitPaths(rn)
	return info, nil
}

func splitPaths(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, d := range strings.Split(v, ":") {
			if d != "" {
				out = append(out, d)
			}
		}
	}
	return out
}

// elfFile checks the ELF file at p (shown as by) and, transitively, the
// libraries it loads.
func (c *checker) elfFile(p, by string) error {
	res, ok, err := Resolve(c.r, p)
	if err != nil || !ok {
		return err
	}
	if c.seen[res] {
		return nil
	}
	c.seen[res] = true
	info, err := c.readELF(res)
	if err != nil || info == nil {
		return err
	}
	if info.interp != "" {
		if ir, ok, err := Resolve(c.r, info.interp); err != nil {
			return err
		} else if !ok || !c.isRegular(ir) {
			c.probs[Problem{Missing: info.interp, NeededBy: by, Role: RoleLoader}] = true
		}
	}
	origin := path.Dir(res)
	for _, name := range info.needed {
		lib, err := c.find(name, info, origin)
		if err != nil {
			return err
		}
		if lib == "" {
			c.probs[Problem{Missing: name, Library: true, NeededBy: by}] = true
			continue
		}
		if err := c.elfFile(lib, lib); err != nil {
			return err
		}
	}
	return nil
}

// find returns the image path of the library name that a file with info,
// in directory origin, loads; "" if none fits.
func (c *checker) find(name string, info *elfInfo, origin string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !path.IsAbs(p) {
			p = path.Join(origin, p)
		}
		return c.candidate(p, info)
	}
	var dirs []string
	if len(info.runpath) == 0 {
		dirs = append(dirs, expand(info.rpath, origin)...)
	}
	dirs = append(dirs, c.opt.LibraryPath...)
	dirs = append(dirs, expand(info.runpath, origin)...)
	dirs = append(dirs, c.confDirs...)
	dirs = append(dirs, defaultDirs(info.class)...)
	for _, d := range dirs {
		if !path.IsAbs(d) {
			continue // a relative RPATH depends on the working directory: not counted
		}
		p, err := c.candidate(path.Join(d, name), info)
		if p != "" || err != nil {
			return p, err
		}
	}
	return "", nil
}

// candidate returns p if it is an ELF library of the needer's class and
// machine (the loader skips others).
func (c *checker) candidate(p string, needer *elfInfo) (string, error) {
	res, ok, err := Resolve(c.r, p)
	if err != nil || !ok || !c.isRegular(res) {
		return "", err
	}
	info, err := c.readELF(res)
	if err != nil || info == nil {
		return "", err
	}
	if info.class != needer.class || info.machine != needer.machine {
		return "", nil
	}
	return res, nil
}

// expand substitutes $ORIGIN (and ${ORIGIN}), $LIB and $PLATFORM roughly
// as ld.so does on x86_64.
func expand(dirs []string, origin string) []string {
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		d = strings.NewReplacer("${ORIGIN}", origin, "$ORIGIN", origin, "${LIB}", "lib64", "$LIB", "lib64",
			"${PLATFORM}", "x86_64", "$PLATFORM", "x86_64").Replace(d)
		out = append(out, path.Clean(d))
	}
	return out
}

func defaultDirs(class elf.Class) []string {
	if class == elf.ELFCLASS64 {
		return []string{"/lib64", "/usr/lib64", "/lib", "/usr/lib"}
	}
	return []string{"/lib", "/usr/lib"}
}

// ldConfDirs reads /etc/ld.so.conf and what it includes (globs), in order.
func ldConfDirs(r Root) ([]string, error) {
	var dirs []string
	seen := map[string]bool{}
	var read func(file string, depth int) error
	read = func(file string, depth int) error {
		if depth > 8 || seen[file] {
			return nil
		}
		seen[file] = true
		res, ok, err := Resolve(r, file)
		if err != nil || !ok {
			return err
		}
		f, err := r.Open(res)
		if err != nil {
			return nil // unreadable config: the loader ignores it too
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line, _, _ := strings.Cut(sc.Text(), "#")
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			if fields[0] == "include" {
				for _, pat := range fields[1:] {
					if !path.IsAbs(pat) {
						pat = path.Join(path.Dir(file), pat)
					}
					matches, err := glob(r, pat)
					if err != nil {
						return err
					}
					for _, m := range matches {
						if err := read(m, depth+1); err != nil {
							return err
						}
					}
				}
				continue
			}
			for _, d := range fields {
				for _, x := range strings.Split(d, ":") {
					if path.IsAbs(x) {
						dirs = append(dirs, path.Clean(x))
					}
				}
			}
		}
		return sc.Err()
	}
	if err := read("/etc/ld.so.conf", 0); err != nil {
		return nil, fmt.Errorf("/etc/ld.so.conf: %w", err)
	}
	return dirs, nil
}

// glob matches a pattern whose last element may hold wildcards.
func glob(r Root, pat string) ([]string, error) {
	dir, base := path.Split(pat)
	res, ok, err := Resolve(r, dir)
	if err != nil || !ok {
		return nil, err
	}
	names, err := r.ReadDir(res)
	if err != nil {
		return nil, nil
	}
	var out []string
	for _, n := range names {
		if m, _ := path.Match(base, n); m {
			out = append(out, path.Join(res, n))
		}
	}
	return out, nil
}

// modWSGI checks the Apache server that mod_wsgi was built against and
// that mod_wsgi-express starts, as its apxs_config.py names it: HTTPD, or
// PROGNAME in SBINDIR or BINDIR (whichever exists, as the file decides at
// import), and the LIBEXECDIR its modules load from. mod_wsgi's module
// loads into that server, so without it the app cannot run. A mod_wsgi
// that ships its own server (WITH_HTTPD_PACKAGE = True) needs nothing.
func (c *checker) modWSGI(cfg string) error {
	f, err := c.r.Open(cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg, err)
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "WITH_HTTPD_PACKAGE" && v == "True" {
			f.Close()
			return nil
		}
		// Only literal strings: the other branch's computed values are not ours.
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
			vars[k] = v[1 : len(v)-1]
		}
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", cfg, err)
	}
	var candidates []string
	if h := vars["HTTPD"]; path.IsAbs(h) {
		candidates = []string{h}
	} else if prog := vars["PROGNAME"]; prog != "" {
		for _, d := range []string{vars["SBINDIR"], vars["BINDIR"]} {
			if path.IsAbs(d) {
				candidates = append(candidates, path.Join(d, prog))
			}
		}
	}
	if len(candidates) > 0 {
		found := ""
		for _, cand := range candidates {
			if res, ok, err := Resolve(c.r, cand); err != nil {
				return err
			} else if ok && c.isRegular(res) {
				found = cand
				break
			}
		}
		if found == "" {
			found = candidates[0]
		}
		if err := c.program(found, cfg, RoleHTTPD, "HTTPD"); err != nil {
			return err
		}
	}
	if dir := vars["LIBEXECDIR"]; path.IsAbs(dir) {
		if res, ok, err := Resolve(c.r, dir); err != nil {
			return err
		} else if !ok || !c.isDir(res) {
			c.probs[Problem{Missing: dir, NeededBy: cfg, Role: RoleModules, Detail: "LIBEXECDIR"}] = true
		}
	}
	return nil
}
