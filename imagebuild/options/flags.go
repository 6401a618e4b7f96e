package options

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/imagebuild/sandbox/capability"
	"github.com/pys2i/pys2i/internal/redact"
)

// Injection is one --inject: a host file or directory copied into the
// build container before assemble, emptied after it and left out of the
// image. A relative Destination is under the builder's WORKDIR.
type Injection struct {
	Source, Destination string
}

// injectBadChars are the characters s2i refuses in --inject values.
const injectBadChars = ";*?\"<>|%#$!+{}&[],'`"

// ParseInjections parses s2i's VolumeList for --inject: "src:dst" values,
// each of which may hold several separated by ';'. dst may be empty (the
// WORKDIR).
func ParseInjections(values []string) ([]Injection, error) {
	var out []Injection
	for _, item := range splitItems(values) {
		if i := strings.IndexAny(item, injectBadChars); i >= 0 {
			return nil, fmt.Errorf("invalid --inject %q: the character %q is not allowed", item, item[i])
		}
		src, dst, _ := strings.Cut(item, ":")
		if src == "" || strings.Contains(dst, ":") {
			return nil, fmt.Errorf("invalid --inject %q: want SOURCE:DESTINATION", item)
		}
		out = append(out, Injection{Source: src, Destination: dst})
	}
	return out, nil
}

// ParseVolumes parses -v/--volume, host paths bind-mounted into assemble's
// sandbox: Docker's "src:dst[:opts]" bind mounts. src must be
// an absolute host path (there are no named volumes here), dst absolute,
// opts "ro" or "rw".
func ParseVolumes(values []string) ([]sandbox.Mount, error) {
	var out []sandbox.Mount
	for _, v := range values {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("invalid --volume %q: want SOURCE:TARGET[:ro|rw]", v)
		}
		vol := sandbox.Mount{Source: parts[0], Target: parts[1]}
		if !path.IsAbs(vol.Source) {
			return nil, fmt.Errorf("invalid --volume %q: the source must be an absolute host path (named volumes are not supported)", v)
		}
		if !path.IsAbs(vol.Target) || path.Clean(vol.Target) == "/" {
			return nil, fmt.Errorf("invalid --volume %q: the target must be an absolute path other than /", v)
		}
		vol.Source, vol.Target = path.Clean(vol.Source), path.Clean(vol.Target)
		if len(parts) == 3 {
			for _, opt := range strings.Split(parts[2], ",") {
				switch opt {
				case "ro":
					vol.ReadOnly = true
				case "rw":
				default:
					return nil, fmt.Errorf("invalid --volume %q: unknown option %q (want ro or rw)", v, opt)
				}
			}
		}
		out = append(out, vol)
	}
	return out, nil
}

// Network is assemble's network: the host's, or none at all.
type Network string

const (
	NetworkHost Network = "host"
	NetworkNone Network = "none"
)

// ParseNetwork accepts host (the default: "" too) and none. Docker's other
// modes (bridge, container:ID, ...) need a container network pys2i does
// not have: a clear error, where s2i accepted anything.
func ParseNetwork(s string) (Network, error) {
	switch n := Network(strings.TrimSpace(s)); n {
	case "", NetworkHost:
		return NetworkHost, nil
	case NetworkNone:
		return NetworkNone, nil
	}
	return "", fmt.Errorf("invalid --network %q: pys2i runs assemble on the host's network (host, the default) or with none", s)
}

// ParseCapDrop parses --cap-drop values, each a comma-separated list of
// capability names (CAP_ optional, any case) or ALL, into canonical,
// deduplicated names.
func ParseCapDrop(values []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			if strings.TrimSpace(name) == "" {
				continue
			}
			c, err := capability.Canonical(name)
			if err != nil {
				return nil, fmt.Errorf("invalid --cap-drop: %w", err)
			}
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

var hostNameRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)

// ParseAddHosts parses --add-host, NAME resolving to IP in assemble: Docker's
// "host:ip" values (split at the first ':', so that "h:::1" is an IPv6
// address).
func ParseAddHosts(values []string) ([]sandbox.HostEntry, error) {
	var out []sandbox.HostEntry
	for _, v := range values {
		name, ip, ok := strings.Cut(v, ":")
		if !ok {
			return nil, fmt.Errorf("invalid --add-host %q: want HOST:IP", v)
		}
		if !hostNameRE.MatchString(name) || len(name) > 253 {
			return nil, fmt.Errorf("invalid --add-host %q: %q is not a host name", v, name)
		}
		if net.ParseIP(ip) == nil {
			return nil, fmt.Errorf("invalid --add-host %q: %q is not an IP address", v, ip)
		}
		out = append(out, sandbox.HostEntry{Name: name, IP: ip})
	}
	return out, nil
}

// CheckCallbackURL accepts an http or https URL with a host. Errors never
// show the URL's credentials.
func CheckCallbackURL(u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("invalid --callback-url %s: not a URL", redact.URL(u))
	}
	if p.Scheme != "http" && p.Scheme != "https" {
		return fmt.Errorf("invalid --callback-url %s: want an http:// or https:// URL", redact.URL(u))
	}
	if p.Host == "" {
		return fmt.Errorf("invalid --callback-url %s: no host", redact.URL(u))
	}
	return nil
}
