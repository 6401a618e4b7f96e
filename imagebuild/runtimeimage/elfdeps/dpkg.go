package elfdeps

import (
	"bufio"
	"debug/elf"
	"path"
	"strings"
)

// Locate finds a library by name in r the way the loader would for a
// 64-bit file with no RPATH: LD_LIBRARY_PATH, ld.so.conf, default
// directories. It returns the path where it was found (unresolved, as
// package lists record it) or "".
func Locate(r Root, name string, opt Options) (string, error) {
	conf, err := ldConfDirs(r)
	if err != nil {
		return "", err
	}
	c := &checker{r: r, opt: opt, confDirs: conf, seen: map[string]bool{}}
	needer := &elfInfo{class: elf.ELFCLASS64, machine: elf.EM_X86_64}
	for _, d := range append(append(append([]string{}, opt.LibraryPath...), conf...), defaultDirs(needer.class)...) {
		p := path.Join(d, name)
		res, err := c.candidate(p, needer)
		if err != nil {
			return "", err
		}
		if res != "" {
			return p, nil
		}
	}
	return "", nil
}

// DpkgOwner returns the Debian package whose file list (in r's
// /var/lib/dpkg/info/*.list) holds p, or its /usr-merged twin; "" if none
// does or r has no dpkg database.
func DpkgOwner(r Root, paths ...string) (string, error) {
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
		if rest, ok := strings.CutPrefix(p, "/usr/"); ok {
			want["/"+rest] = true
		} else {
			want["/usr"+p] = true
		}
	}
	const dir = "/var/lib/dpkg/info"
	names, err := r.ReadDir(dir)
	if err != nil {
		return "", nil // no dpkg here
	}
	for _, n := range names {
		if !strings.HasSuffix(n, ".list") {
			continue
		}
		f, err := r.Open(path.Join(dir, n))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		found := false
		for sc.Scan() {
			if want[sc.Text()] {
				found = true
				break
			}
		}
		f.Close()
		if found {
			pkg, _, _ := strings.Cut(strings.TrimSuffix(n, ".list"), ":")
			return pkg, nil
		}
	}
	return "", nil
}
