// Package s2iscripts decides, as s2i does, where each S2I script comes from
// (the --scripts-url, the source's .s2i/bin, the builder's labels, the
// default image:///usr/libexec/s2i) and where the source goes in the image
// (the destination). Decisions are pure; ListSource is the one function that
// reads the disk.
package s2iscripts

import (
	"fmt"
	"path"
	"strings"

	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
	"github.com/pys2i/pys2i/internal/exitcode"
	"github.com/pys2i/pys2i/internal/redact"
)

// Script names.
const (
	Assemble        = "assemble"
	Run             = "run"
	SaveArtifacts   = "save-artifacts"
	AssembleRuntime = "assemble-runtime"
	Usage           = "usage"
)

// Labels and image variables s2i reads.
const (
	LabelScriptsURL           = "io.openshift.s2i.scripts-url"
	LabelScriptsURLDeprecated = "io.s2i.scripts-url"
	EnvScriptsURL             = "STI_SCRIPTS_URL" // deprecated, in the image's Env
	LabelDestination          = "io.openshift.s2i.destination"
	LabelDestinationOld       = "io.s2i.destination"
	EnvLocation               = "STI_LOCATION" // deprecated, in the image's Env
)

// DefaultImageScriptsURL is s2i's --image-scripts-url default.
const DefaultImageScriptsURL = "image://" + contract.ScriptsDir

// Origin says where a script was found.
type Origin string

const (
	FromScriptsURL Origin = "--scripts-url"
	FromSource     Origin = "source"
	FromLabel      Origin = "image label"
	FromDefault    Origin = "default"
)

// Script is where one script comes from.
type Script struct {
	Name   string
	Origin Origin
	// ImagePath is set for a script already inside the builder (image://):
	// its absolute path there.
	ImagePath string
	// HostPath is set for a script to upload: a host file (file://), or a
	// path relative to the prepared source (.s2i/bin/NAME).
	HostPath string
}

// External reports whether the script is uploaded with the source (to
// DEST/scripts) rather than already in the image.
func (s Script) External() bool { return s.ImagePath == "" }

// PathIn returns the script's path inside the build container, given the
// destination: the image path, or DEST/scripts/NAME for an uploaded one.
func (s Script) PathIn(destination string) string {
	if s.ImagePath != "" {
		return s.ImagePath
	}
	return path.Join(destination, "scripts", s.Name)
}

// Input is everything the decision needs.
type Input struct {
	ScriptsURL      string            // --scripts-url
	ImageScriptsURL string            // --image-scripts-url; DefaultImageScriptsURL if empty
	Labels          map[string]string // the builder's labels
	ImageEnv        []string          // the builder's Env
	// SourceScripts are the script files in the prepared source, name ->
	// path relative to it (see ListSource).
	SourceScripts map[string]string
	// HostFileExists reports whether a file:// script exists on the host.
	HostFileExists func(path string) bool
}

// Locate resolves each named script independently, in s2i's order (first hit
// wins): --scripts-url, the source's .s2i/bin, the builder's scripts-url
// label (io.openshift.s2i.scripts-url, io.s2i.scripts-url, STI_SCRIPTS_URL
// in its Env). Where s2i's daemon mode stops with "failed to install" pys2i
// then falls back to --image-scripts-url (default image:///usr/libexec/s2i),
// which s2i uses only for --as-dockerfile.
//
// An image:// URL is trusted to hold every script, unchecked, as in s2i.
// Scripts in required that are not found give an error with exit status 11;
// if --scripts-url was given and provided no script at all, an error (s2i's
// "could not download any scripts from URL"). Warnings report deprecated
// locations.
func Locate(in Input, names, required []string) (map[string]Script, []string, error) {
	labelURL, labelName := labelScriptsURL(in.Labels, in.ImageEnv)
	chain := []struct {
		url    string
		origin Origin
		what   string
	}{
		{in.ScriptsURL, FromScriptsURL, "--scripts-url"},
		{"", FromSource, ""},
		{labelURL, FromLabel, "label " + labelName},
		{orDefault(in.ImageScriptsURL, DefaultImageScriptsURL), FromDefault, "--image-scripts-url"},
	}
	var warn []string
	if labelName != "" && labelName != LabelScriptsURL {
		warn = append(warn, fmt.Sprintf("the builder sets the scripts URL with the deprecated %s; use %s", labelName, LabelScriptsURL))
	}
	found := map[string]Script{}
	fromFlag := false
	for _, name := range names {
		for _, c := range chain {
			if c.origin == FromSource {
				if p, ok := in.SourceScripts[name]; ok {
					found[name] = Script{Name: name, Origin: FromSource, HostPath: p}
					if strings.HasPrefix(p, ".sti/") {
						warn = append(warn, fmt.Sprintf("%s: .sti/bin is deprecated; use .s2i/bin", p))
					}
					break
				}
				continue
			}
			if c.url == "" {
				continue
			}
			s, ok, err := fromURL(c.url, name, in.HostFileExists)
			if err != nil {
				return nil, warn, fmt.Errorf("%s: %w", c.what, err)
			}
			if ok {
				s.Origin = c.origin
				found[name] = s
				fromFlag = fromFlag || c.origin == FromScriptsURL
				break
			}
		}
	}
	if in.ScriptsURL != "" && !fromFlag {
		return nil, warn, fmt.Errorf("could not find any scripts at --scripts-url %s", redact.URL(in.ScriptsURL))
	}
	var missing []string
	for _, r := range required {
		if _, ok := found[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return nil, warn, exitcode.New(exitcode.InstallRequired,
			"failed to install %v: set --scripts-url or the builder's %s label, or add them to the source's .s2i/bin", missing, LabelScriptsURL)
	}
	return found, warn, nil
}

// fromURL resolves name under a scripts URL: image:// always counts,
// file:// if the host file exists; http(s) is refused.
func fromURL(u, name string, exists func(string) bool) (Script, bool, error) {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return Script{}, false, exitcode.New(exitcode.URLHandler, "scripts URL %q has no scheme: use image:///DIR or file://DIR", redact.URL(u))
	}
	switch scheme {
	case "image":
		return Script{Name: name, ImagePath: path.Join("/", rest, name)}, true, nil
	case "file":
		// s2i opens host+path, so file://./dir is relative.
		p := path.Join(rest, name)
		if exists != nil && exists(p) {
			return Script{Name: name, HostPath: p}, true, nil
		}
		return Script{}, false, nil
	case "http", "https":
		return Script{}, false, exitcode.New(exitcode.URLHandler,
			"scripts URL %s: downloading scripts over %s is not supported; download them and use file://DIR", redact.URL(u), scheme)
	default:
		return Script{}, false, exitcode.New(exitcode.URLHandler, "no URL handler for %s (use image:// or file://)", redact.URL(u))
	}
}

// labelScriptsURL returns the builder's scripts URL and where it was set.
func labelScriptsURL(labels map[string]string, env []string) (string, string) {
	for _, l := range []string{LabelScriptsURL, LabelScriptsURLDeprecated} {
		if v := labels[l]; v != "" {
			return v, l
		}
	}
	if v := envlist.Get(env, EnvScriptsURL); v != "" {
		return v, EnvScriptsURL
	}
	return "", ""
}

// Destination returns where the source goes in the build container, in s2i's
// order: --destination, the io.openshift.s2i.destination label, the
// deprecated io.s2i.destination label and STI_LOCATION variable, /tmp.
func Destination(flag string, labels map[string]string, env []string) string {
	for _, v := range []string{flag, labels[LabelDestination], labels[LabelDestinationOld], envlist.Get(env, EnvLocation)} {
		if v != "" {
			return v
		}
	}
	return "/tmp"
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
