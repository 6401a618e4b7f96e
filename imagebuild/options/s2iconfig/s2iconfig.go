// Package s2iconfig reads and writes s2i's .s2ifile (--use-config): the
// SOURCE, BUILDER and TAG arguments and the flags of an earlier build, as
// JSON {"source", "builderImage", "tag", "flags": {name: value}}. A
// repeatable flag is kept as NAME-0, NAME-1, ... (s2i does so for env), so
// that values with commas survive (s2i issue #761).
package s2iconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
)

// Name is the file's name, in the current directory; legacyName is the
// older one, read when Name is missing.
const (
	Name       = ".s2ifile"
	legacyName = ".stifile"
)

// File is the saved build.
type File struct {
	Source       string            `json:"source"`
	BuilderImage string            `json:"builderImage"`
	Tag          string            `json:"tag,omitempty"`
	Flags        map[string]string `json:"flags,omitempty"`
}

// Read reads dir's .s2ifile, else its .stifile; found is false if there
// is neither.
func Read(dir string) (f File, path string, found bool, err error) {
	for _, n := range []string{Name, legacyName} {
		p := filepath.Join(dir, n)
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return File{}, p, false, fmt.Errorf("read %s: %w", p, err)
		}
		f, err := Parse(data)
		if err != nil {
			return File{}, p, false, fmt.Errorf("%s: %w", p, err)
		}
		return f, p, true, nil
	}
	return File{}, "", false, nil
}

// Parse decodes a .s2ifile.
func Parse(data []byte) (File, error) {
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return File{}, fmt.Errorf("not an s2i config file: %w", err)
	}
	return f, nil
}

// Write writes f to dir/.s2ifile, readable by its owner only (flag values
// may be secrets).
func Write(dir string, f File) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(dir, Name)
	if err := os.WriteFile(p, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

var indexed = regexp.MustCompile(`^(.+)-([0-9]+)$`)

// Values groups the saved flags: a name with its values, the NAME-N
// entries of a repeatable flag (isList says which names are) in N order.
// s2i's old single "env" entry is comma-separated.
func (f File) Values(isList func(string) bool) map[string][]string {
	type iv struct {
		i int
		v string
	}
	lists := map[string][]iv{}
	out := map[string][]string{}
	for k, v := range f.Flags {
		if m := indexed.FindStringSubmatch(k); m != nil && isList(m[1]) {
			i, _ := strconv.Atoi(m[2])
			lists[m[1]] = append(lists[m[1]], iv{i, v})
			continue
		}
		if k == "env" {
			out[k] = append(out[k], splitComma(v)...)
			continue
		}
		out[k] = []string{v}
	}
	for name, l := range lists {
		sort.Slice(l, func(a, b int) bool { return l[a].i < l[b].i })
		for _, e := range l {
			out[name] = append(out[name], e.v)
		}
	}
	return out
}

// SetList stores a repeatable flag's values as NAME-0, NAME-1, ...
func (f *File) SetList(name string, values []string) {
	if f.Flags == nil {
		f.Flags = map[string]string{}
	}
	for i, v := range values {
		f.Flags[fmt.Sprintf("%s-%d", name, i)] = v
	}
}

// Set stores a flag's value.
func (f *File) Set(name, value string) {
	if f.Flags == nil {
		f.Flags = map[string]string{}
	}
	f.Flags[name] = value
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
