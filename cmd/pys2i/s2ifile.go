package main

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pys2i/pys2i/imagebuild/options/s2iconfig"
	"github.com/pys2i/pys2i/internal/redact"
)

// useConfig reports whether --use-config (or PYS2I_USE_CONFIG, or the
// config file's use-config) is on.
func useConfig(cmd *cobra.Command) bool {
	v, err := settings(cmd)
	return err == nil && v.GetBool("use-config")
}

// notSaved are flags that say how to run this command, not the build.
var notSaved = map[string]bool{"use-config": true, "config": true}

func isList(fs *pflag.FlagSet) func(string) bool {
	return func(name string) bool {
		f := fs.Lookup(name)
		return f != nil && f.Value.Type() == "stringArray"
	}
}

// restoreConfig applies ./.s2ifile (or .stifile) as s2i does: flags not
// given on the command line take its values (so they rank below the
// command line, above PYS2I_* variables and the config file), and without
// SOURCE and BUILDER arguments its source, builder and tag are used.
func restoreConfig(cmd *cobra.Command, args []string, warn func(string, ...any)) ([]string, error) {
	f, path, found, err := s2iconfig.Read(".")
	if err != nil {
		return nil, fmt.Errorf("--use-config: %w", err)
	}
	if !found {
		if len(args) < 2 {
			return nil, fmt.Errorf("--use-config: no %s in this directory, and no SOURCE BUILDER arguments", s2iconfig.Name)
		}
		return args, nil
	}
	fs := cmd.Flags()
	vals := f.Values(isList(fs))
	names := make([]string, 0, len(vals))
	for n := range vals {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		fl := fs.Lookup(name)
		if fl == nil {
			warn("%s: flag --%s is not a pys2i build flag: ignored", path, name)
			continue
		}
		if fl.Changed || notSaved[name] {
			continue
		}
		for _, v := range vals[name] {
			if err := fs.Set(name, v); err != nil {
				return nil, fmt.Errorf("--use-config: %s: --%s: %w", path, name, err)
			}
		}
	}
	if len(args) >= 2 {
		return args, nil // arguments given beat the file's
	}
	if f.Source == "" || f.BuilderImage == "" {
		return nil, fmt.Errorf("--use-config: %s has no source or builderImage, and no SOURCE BUILDER arguments were given", path)
	}
	args = []string{f.Source, f.BuilderImage}
	if f.Tag != "" {
		args = append(args, f.Tag)
	}
	return args, nil
}

// saveConfig writes this build's arguments and set flags to ./.s2ifile.
// Nothing that holds a credential in a URL is written (s2i wrote it all).
func saveConfig(cmd *cobra.Command, args []string, warn func(string, ...any)) error {
	for _, a := range args {
		if redact.URL(a) != a {
			warn("--use-config: %s not saved: the arguments hold a credential (%s)", s2iconfig.Name, redact.URL(a))
			return nil
		}
	}
	f := s2iconfig.File{Source: args[0], BuilderImage: args[1]}
	if len(args) > 2 {
		f.Tag = args[2]
	}
	fs := cmd.Flags()
	fs.Visit(func(fl *pflag.Flag) {
		if notSaved[fl.Name] {
			return
		}
		var vals []string
		if isList(fs)(fl.Name) {
			vals, _ = fs.GetStringArray(fl.Name)
		} else {
			vals = []string{fl.Value.String()}
		}
		for _, v := range vals {
			if redact.URL(v) != v {
				warn("--use-config: --%s not saved in %s: it holds a credential", fl.Name, s2iconfig.Name)
				return
			}
		}
		if isList(fs)(fl.Name) {
			f.SetList(fl.Name, vals)
		} else {
			f.Set(fl.Name, vals[0])
		}
	})
	if err := s2iconfig.Write(".", f); err != nil {
		return fmt.Errorf("--use-config: %w", err)
	}
	return nil
}
