// Package buildenv computes a build's environment as s2i does: the source's
// .s2i/environment, then -e values, then -E files; for a name given more than
// once the last value wins.
//
// Values may hold credentials (index URLs, tokens): Env's String shows names
// only, so an Env that reaches a log by accident leaks nothing.
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
	"strings"
	"syscall"

	"github.com/pys2i/pys2i/redact"
)

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
	s2i, warn, err := ReadS2IFile(srcDir)
	if err != nil {
		return nil, warn, err
	}
	fl, w, err := ParseFlags(flags)
	warn = append(warn, w...)
	if err != nil {
		return nil, warn, err
	}
	lists := []Env{s2i, fl}
	for _, f := range files {
		env, w := ReadEnvFile(f)
		warn = append(warn, w...)
		lists = append(lists, env)
	}
	return Merge(lists...), warn, nil
}

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
// NUL byte, which no process environment can carry, is an error too.
func ParseS2I(r io.Reader, name string) (Env, []string, error) {
	return parse(r, name, true, "#")
}

// ReadEnvFile reads an -E file: as ParseS2I, but "//" also starts a comment.
// As in s2i, a file that cannot be read is only a warning.
func ReadEnvFile(path string) (Env, []string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []string{fmt.Sprintf("ignoring environment file %s: %v", path, err)}
	}
	env, warn, err := parse(bytes.NewReader(b), path, false, "#", "//")
	if err != nil {
		// Only a NUL byte gets here; s2i would pass it on to fail later.
		return nil, append(warn, fmt.Sprintf("ignoring environment file %s: %v", path, err))
	}
	return env, warn
}

// parse reads NAME=VALUE lines; a malformed line is an error when strict,
// else a warning and skipped (s2i's way for -E files).
func parse(r io.Reader, name string, strict bool, comments ...string) (Env, []string, error) {
	var env Env
	var warn []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || hasAnyPrefix(line, comments) {
			continue
		}
		if strings.ContainsRune(line, 0) {
			return nil, warn, fmt.Errorf("%s:%d: NUL byte in a variable", name, n)
		}
		v, err := ParseVar(line)
		if err != nil && strict {
			return nil, warn, fmt.Errorf("%s:%d: bad line: %v", name, n, err)
		}
		if err != nil {
			warn = append(warn, fmt.Sprintf("%s:%d: skipped: %v", name, n, err))
			continue
		}
		env = append(env, v)
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

// ParseVar splits NAME=VALUE at the first '=' and trims both sides.
func ParseVar(s string) (Var, error) {
	name, value, ok := strings.Cut(s, "=")
	if !ok {
		// The text is not shown: it might be a secret.
		return Var{}, errors.New("no '=' (want NAME=VALUE)")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return Var{}, errors.New("empty variable name")
	}
	return Var{Name: name, Value: strings.TrimSpace(value)}, nil
}

// ParseFlags parses -e values. Unlike a file line, a bad value is an error
// (s2i's flag parser rejects it). A value with both ',' and '=' stays one
// variable, with s2i's deprecation warning.
func ParseFlags(flags []string) (Env, []string, error) {
	var env Env
	var warn []string
	for _, f := range flags {
		v, err := ParseVar(f)
		if err != nil {
			return nil, warn, fmt.Errorf("invalid -e value: %w", err)
		}
		if strings.ContainsRune(v.Value, 0) || strings.ContainsRune(v.Name, 0) {
			return nil, warn, fmt.Errorf("invalid -e value for %s: NUL byte", v.Name)
		}
		if strings.Contains(v.Value, ",") && strings.Contains(v.Value, "=") {
			warn = append(warn, fmt.Sprintf("-e %s: the value has ',' and '='; it is one variable (passing several with commas is not supported)", v.Name))
		}
		env = append(env, v)
	}
	return env, warn, nil
}
