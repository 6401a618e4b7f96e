// Package envlist reads and changes environment lists, NAME=VALUE strings
// as a process or an image config holds them, with one rule: for a name
// given more than once the last value wins, as exec (os/exec, a container
// runtime) and s2i's ordered build env take it; a name keeps the place of
// its first entry. An entry without '=' has no value.
package envlist

import (
	"slices"
	"strings"
)

// Lookup returns the value of name in env (the last one) and whether it is
// there.
func Lookup(env []string, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// Get returns the value of name in env, "" when unset.
func Get(env []string, name string) string {
	v, _ := Lookup(env, name)
	return v
}

// Set returns env with name set to value: the first entry of name takes it
// in its place and later ones are dropped (other names are left as they
// are); a new name is appended. env is not changed.
func Set(env []string, name, value string) []string {
	out := make([]string, 0, len(env)+1)
	done := false
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); ok && k == name {
			if !done {
				out = append(out, name+"="+value)
				done = true
			}
			continue
		}
		out = append(out, kv)
	}
	if !done {
		out = append(out, name+"="+value)
	}
	return out
}

// Unset returns env without any NAME=VALUE entry of the names. env is not
// changed.
func Unset(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); !ok || !slices.Contains(names, k) {
			out = append(out, kv)
		}
	}
	return out
}

// Merge concatenates lists into one with each name once: in the place of
// its first entry, with the value of its last (what Docker makes of an
// image's Env with repeats). The lists are not changed.
func Merge(lists ...[]string) []string {
	var out []string
	at := map[string]int{}
	for _, l := range lists {
		for _, kv := range l {
			k, _, _ := strings.Cut(kv, "=")
			if i, ok := at[k]; ok {
				out[i] = kv
				continue
			}
			at[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}
