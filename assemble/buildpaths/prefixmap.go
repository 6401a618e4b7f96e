package buildpaths

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// CompilerWrapper is the program name of the compiler wrapper in the
// in-image binary ("s2i-scripts reproducible-cc COMPILER ARGS..."), which
// adds CompilerFlags to each compilation.
const CompilerWrapper = "reproducible-cc"

// PrefixMaps are the compiler options that make a compiler record pip's
// random build directories under tmp as their placeholders
// (-ffile-prefix-map, GCC 8+ and clang 10+). The compiler then writes the
// same bytes in every build, so the linker's merged string tables come out
// in the same order and its build ID is the same: what scrubbing after the
// fact (Normalize) cannot promise, as the linker may order strings by their
// content. dirs holds the names of pip's directories in tmp, each with the
// names in it. A map that refines another comes after it: the compiler
// uses the last one that matches.
func PrefixMaps(tmp string, dirs map[string][]string) []string {
	if strings.Contains(tmp, "=") || !filepath.IsAbs(tmp) {
		return nil // "=" would end the old prefix early
	}
	tmp = filepath.Clean(tmp)
	var names []string
	for n := range dirs {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		dir := filepath.Join(tmp, n)
		placeholder := scrubbed(dir)
		if placeholder == dir || strings.Contains(n, "=") || filepath.Dir(dir) != tmp {
			continue
		}
		out = append(out, "-ffile-prefix-map="+dir+"="+placeholder)
		children := append([]string(nil), dirs[n]...)
		sort.Strings(children)
		for _, c := range children {
			p := filepath.Join(dir, c)
			if strings.Contains(c, "=") || filepath.Dir(p) != dir {
				continue
			}
			if q := scrubbed(p); q != placeholder+"/"+c {
				out = append(out, "-ffile-prefix-map="+p+"="+q)
			}
		}
	}
	return out
}

// scrubbed is path with Scrub's placeholders.
func scrubbed(path string) string {
	b := []byte(path)
	Scrub(b)
	return string(b)
}

// CompilerFlags are PrefixMaps for the pip directories that exist in tmp
// now: a compiler wrapper calls it at each compilation, when pip has made
// the directory it builds in.
func CompilerFlags(tmp string) []string {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil
	}
	dirs := map[string][]string{}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "pip-") {
			continue
		}
		var children []string
		if sub, err := os.ReadDir(filepath.Join(tmp, e.Name())); err == nil {
			for _, c := range sub {
				if c.IsDir() {
					children = append(children, c.Name())
				}
			}
		}
		dirs[e.Name()] = children
	}
	return PrefixMaps(tmp, dirs)
}
