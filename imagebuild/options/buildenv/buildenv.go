// Package buildenv computes a build's environment as s2i does: the source's
// .s2i/environment, then -e values, then -E files; for a name given more than
// once the last value wins.
//
// Values may hold credentials (index URLs, tokens): Env's String shows names
// only, so an Env that reaches a log by accident leaks nothing.
//
// Names must be POSIX names (letters, digits, '_', not starting with a digit),
// and each NAME=VALUE must fit the kernel's limit on one environment string:
// the build env is assemble's environment and the image's Env, where another
// name or an oversized string fails late, or not at all but breaks the shell.
package buildenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"github.com/pys2i/pys2i/internal/redact"
)

// MaxVar is the longest NAME=VALUE a process can be given: the kernel's
// MAX_ARG_STRLEN (32 pages, 131072 bytes) counts the terminating NUL.
const MaxVar = 32*4096 - 1

// MaxTotal bounds the whole build env (NAME=VALUE strings, NULs included).
// The kernel takes at most a quarter of the stack limit (2 MiB by default)
// for arguments and environment together, and assemble gets the image's
// Env too: half of it is left to those.
const MaxTotal = 1 << 20

// maxLine is the longest line read from a file; longer is an error naming
// the line (a variable can't be that long anyway).
const maxLine = 1 << 20

// Var is one NAME=VALUE.
type Var struct {
	Name, Value string
}

// Env is an ordered list of variables.
type Env []Var

// Strings returns NAME=VALUE entries, for a process or an image config.
func (e Env) Strings() []string {
	out := make([]string, len(e))
	for i, v := range e {
		out[i] = v.Name + "=" + v.Value
	}
	return out
}

// String lists the names with masked values: safe to log.
func (e Env) String() string {
	out := make([]string, len(e))
	for i, v := range e {
		out[i] = v.Name + "=***"
	}
	return strings.Join(out, " ")
}

// Merge concatenates lists; a name keeps the place of its first occurrence
// and the value of its last, which is what Docker makes of s2i's list with
// repeats.
func Merge(lists ...Env) Env {
	var out Env
	at := map[string]int{}
	for _, l := range lists {
		for _, v := range l {
			if i, ok := at[v.Name]; ok {
				out[i].Value = v.Value
				continue
			}
			at[v.Name] = len(out)
			out = append(out, v)
		}
	}
	return out
}

// Build returns the build environment: srcDir/.s2i/environment (srcDir is
// the prepared source, inside the context dir), then the -e flags, then the
// -E files. Warnings name what s2i silently skipped or only warned about.
func Build(srcDir string, flags, files []string) (Env, []string, error) {
	given, warn, err := FromFlags(flags, files)
	if err != nil {
		return nil, warn, err
	}
	env, w, err := WithSource(srcDir, given)
	return env, append(warn, w...), err
}

// FromFlags returns the -e flags then the -E files, merged and checked: what
// a build can check before it pulls or creates anything.
func FromFlags(flags, files []string) (Env, []string, error) {
	fl, warn, err := ParseFlags(flags)
	if err != nil {
		return nil, warn, err
	}
	lists := []Env{fl}
	for _, f := range files {
		env, w, err := ReadEnvFile(f)
		warn = append(warn, w...)
		if err != nil {
			return nil, warn, err
		}
		lists = append(lists, env)
	}
	env := Merge(lists...)
	return env, warn, CheckTotal(env)
}

// WithSource puts srcDir/.s2i/environment before given (FromFlags's) and
// checks the total.
func WithSource(srcDir string, given Env) (Env, []string, error) {
	s2i, warn, err := ReadS2IFile(srcDir)
	if err != nil {
		return nil, warn, err
	}
	env := Merge(s2i, given)
	return env, warn, CheckTotal(env)
}

// CheckTotal fails when env's NAME=VALUE strings, NULs included, pass
// MaxTotal, naming the largest variables.
func CheckTotal(env Env) error {
	total := 0
	for _, v := range env {
		total += size(v)
	}
	if total <= MaxTotal {
		return nil
	}
	big := append(Env{}, env...)
	sort.SliceStable(big, func(i, j int) bool { return size(big[i]) > size(big[j]) })
	var names []string
	for _, v := range big[:min(3, len(big))] {
		names = append(names, fmt.Sprintf("%s (%d bytes)", v.Name, size(v)))
	}
	return fmt.Errorf("the build environment is %d bytes, more than the %d a build allows: the largest variables are %s",
		total, MaxTotal, strings.Join(names, ", "))
}

// size is v's room in a process's environment: NAME=VALUE and its NUL.
func size(v Var) int { return len(v.Name) + len(v.Value) + 2 }

// ReadS2IFile reads srcDir/.s2i/environment; a missing file is an empty
// environment. Neither .s2i nor the file may be a symlink: it could point
// outside the source.
func ReadS2IFile(srcDir string) (Env, []string, error) {
	dir := filepath.Join(srcDir, ".s2i")
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read .s2i/environment: %w", err)
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("read .s2i/environment: .s2i in the source is not a directory (symlinks are not followed)")
	}
	f, err := os.OpenFile(filepath.Join(dir, "environment"), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, nil, fmt.Errorf("read .s2i/environment: it is a symlink, which is not followed")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read .s2i/environment: %w", err)
	}
	defer f.Close()
	env, warn, err := ParseS2I(f, ".s2i/environment")
	return env, append(warn, credentialWarnings(env)...), err
}

// credentialWarnings name the variables of .s2i/environment whose values
// hold URL credentials: the file is part of the source, so it goes into the
// image with it, whatever is done with the variable.
func credentialWarnings(env Env) []string {
	var warn []string
	for _, v := range env {
		if redact.HasCredentials(v.Value) {
			warn = append(warn, fmt.Sprintf(".s2i/environment: %s holds URL credentials, and the file goes into the image with the source: give %s with -e or -E instead", v.Name, v.Name))
		}
	}
	return warn
}

// ParseS2I parses .s2i/environment content as s2i does: a line starting with
// '#' is a comment; any other line is split at its first '=' and both sides
// are trimmed; quotes are kept ("a b" stays with its quotes); no expansion.
// s2i silently skips a line without '=' or with an empty name; we stop with
// an error naming the file and line instead (issue 6: a typo in the build's
// environment should not build an image that quietly lacks a variable). A
// NUL byte, which no process environment can carry, is an error too, and so
// are a name that is not a POSIX name and a variable over MaxVar (see Check).
// "export X=1" is refused with a hint rather than read as X: s2i reads it
// as the name "export X", so the same source would set no X under s2i.
func ParseS2I(r io.Reader, name string) (Env, []string, error) {
	return parse(r, name, true, "#")
}

// ReadEnvFile reads an -E file: as ParseS2I, but "//" also starts a comment.
// As in s2i, a file that cannot be read, and a line that s2i skips (no '=',
// an empty name), are only warnings; an invalid name or an oversized
// variable, which s2i would pass on, is an error.
func ReadEnvFile(path string) (Env, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []string{fmt.Sprintf("ignoring environment file %s: %v", path, err)}, nil
	}
	return parse(bytes.NewReader(b), path, false, "#", "//")
}

// parse reads NAME=VALUE lines; a line s2i skips is an error when strict,
// else a warning and skipped (s2i's way for -E files).
func parse(r io.Reader, name string, strict bool, comments ...string) (Env, []string, error) {
	var env Env
	var warn []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	n := 1
	for ; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || hasAnyPrefix(line, comments) {
			continue
		}
		if strings.ContainsRune(line, 0) {
			return nil, warn, fmt.Errorf("%s:%d: NUL byte in a variable", name, n)
		}
		v, err := ParseVar(line)
		var skip s2iSkips
		if errors.As(err, &skip) && !strict {
			warn = append(warn, fmt.Sprintf("%s:%d: skipped: %v", name, n, err))
			continue
		}
		if err != nil {
			return nil, warn, fmt.Errorf("%s:%d: bad line: %v", name, n, err)
		}
		env = append(env, v)
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return nil, warn, fmt.Errorf("%s:%d: bad line: longer than %d bytes (a variable may be at most %d bytes as NAME=VALUE)", name, n, maxLine, MaxVar)
	}
	if err := sc.Err(); err != nil {
		return nil, warn, fmt.Errorf("read %s: %w", name, err)
	}
	return env, warn, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// s2iSkips is the error of a line s2i skips without a word (no '=', an
// empty name): -E files skip it with a warning.
type s2iSkips string

func (e s2iSkips) Error() string { return string(e) }

// nameRE is a POSIX shell variable name.
var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// exportRE is a shell "export NAME", which s2i would take as the name
// "export NAME".
var exportRE = regexp.MustCompile(`^export\s+[A-Za-z_][A-Za-z0-9_]*$`)

// ParseVar splits NAME=VALUE at the first '=', trims both sides and checks
// the name and the size.
func ParseVar(s string) (Var, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		// The text is not shown: it might be a secret.
		return Var{}, s2iSkips("no '=' (want NAME=VALUE)")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return Var{}, s2iSkips("empty variable name")
	}
	v := Var{Name: name, Value: strings.TrimSpace(value)}
	return v, Check(v)
}

// Check checks v's name (POSIX) and its size (MaxVar).
func Check(v Var) error {
	switch {
	case exportRE.MatchString(v.Name):
		n := strings.Fields(v.Name)[1]
		return fmt.Errorf("%q: this is NAME=VALUE, not shell: write %s=... without \"export\"", shown(v.Name), n)
	case !nameRE.MatchString(v.Name):
		return fmt.Errorf("invalid variable name %q: a name is letters, digits and '_', not starting with a digit", shown(v.Name))
	case size(v)-1 > MaxVar:
		return fmt.Errorf("variable %s is %d bytes as NAME=VALUE, more than the %d a process's environment can take (the kernel's MAX_ARG_STRLEN)", v.Name, size(v)-1, MaxVar)
	}
	return nil
}

// shown is a bad name as an error shows it: credentials masked, cut short.
func shown(name string) string {
	name = redact.URL(name)
	if len(name) > 64 {
		return name[:64] + "..."
	}
	return name
}

// ParseFlags parses -e values. Unlike a file line, a bad value is an error
// (s2i's flag parser rejects it). A value with both ',' and '=' stays one
// variable, with s2i's deprecation warning.
func ParseFlags(flags []string) (Env, []string, error) {
	var env Env
	var warn []string
	for _, f := range flags {
		if strings.ContainsRune(f, 0) {
			name, _, _ := strings.Cut(f, "=")
			return nil, warn, fmt.Errorf("invalid -e value for %s: NUL byte", shown(name))
		}
		v, err := ParseVar(f)
		if err != nil {
			return nil, warn, fmt.Errorf("invalid -e value: %w", err)
		}
		if strings.Contains(v.Value, ",") && strings.Contains(v.Value, "=") {
			warn = append(warn, fmt.Sprintf("-e %s: the value has ',' and '='; it is one variable (passing several with commas is not supported)", v.Name))
		}
		env = append(env, v)
	}
	return env, warn, nil
}
