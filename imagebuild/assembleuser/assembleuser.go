// Package assembleuser decides which user runs assemble, and enforces
// --allowed-uids exactly as s2i's CheckAllowedUser does.
//
// Exit status 15: every refusal here is an error with exitcode.UserNotAllowed,
// which s2i exits with (UserNotAllowedError) so that a platform running
// untrusted builder images (OpenShift) can tell a policy refusal from a
// failed build. The check runs before anything is run in the image.
package assembleuser

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pys2i/pys2i/internal/exitcode"
)

// Label is the builder label that names the assemble user.
const Label = "io.openshift.s2i.assemble-user"

// DockerfileDefault is the assemble user of --as-dockerfile when none is given.
const DockerfileDefault = "1001"

// Resolve returns the assemble user: --assemble-user, else the builder's
// io.openshift.s2i.assemble-user label, else the image's USER (which may be
// empty: root).
func Resolve(flag string, labels map[string]string, imageUser string) string {
	if flag != "" {
		return flag
	}
	if v := labels[Label]; v != "" {
		return v
	}
	return imageUser
}

// Range is an inclusive UID range; a nil end is open.
type Range struct {
	From, To *uint32
}

// Ranges is a --allowed-uids value. Empty allows everyone.
type Ranges []Range

// ParseRanges parses s2i's syntax: comma-separated "n", "-n", "n-", "n-m".
func ParseRanges(s string) (Ranges, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out Ranges
	for _, part := range strings.Split(s, ",") {
		r, err := parseRange(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("invalid allowed UID range %q: %w", part, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseRange(s string) (Range, error) {
	num := func(v string) (*uint32, error) {
		if v == "" {
			return nil, nil
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a UID", v)
		}
		u := uint32(n)
		return &u, nil
	}
	from, to, isRange := strings.Cut(s, "-")
	if !isRange {
		n, err := num(s)
		if err != nil || n == nil {
			return Range{}, fmt.Errorf("want n, -n, n- or n-m")
		}
		return Range{From: n, To: n}, nil
	}
	f, err := num(from)
	if err != nil {
		return Range{}, err
	}
	t, err := num(to)
	if err != nil {
		return Range{}, err
	}
	if f == nil && t == nil {
		return Range{}, fmt.Errorf("want n, -n, n- or n-m")
	}
	if f != nil && t != nil && *f > *t {
		return Range{}, fmt.Errorf("%d is greater than %d", *f, *t)
	}
	return Range{From: f, To: t}, nil
}

// Contains reports whether uid is in one of the ranges.
func (rs Ranges) Contains(uid uint32) bool {
	for _, r := range rs {
		if (r.From == nil || uid >= *r.From) && (r.To == nil || uid <= *r.To) {
			return true
		}
	}
	return false
}

// allowed reports whether user ("uid" or "uid:gid") is numeric and in range:
// a name, even "root", never is.
func (rs Ranges) allowed(user string) bool {
	u, _, _ := strings.Cut(user, ":")
	n, err := strconv.ParseUint(u, 10, 32)
	return err == nil && rs.Contains(uint32(n))
}

// Check enforces --allowed-uids as s2i does, in its order: every ONBUILD
// USER of the image (onBuild is the image's ONBUILD instructions), then
// --assemble-user if set, else the assemble-user label if set, else the
// image's USER. No ranges: no check.
func Check(rs Ranges, image, flag string, labels map[string]string, imageUser string, onBuild []string) error {
	if len(rs) == 0 {
		return nil
	}
	for _, ins := range onBuild {
		f := strings.Fields(ins)
		// A USER with no value cannot be checked: refused, as a name is.
		if len(f) >= 1 && strings.EqualFold(f[0], "USER") && (len(f) < 2 || !rs.allowed(f[1])) {
			return exitcode.New(exitcode.UserNotAllowed,
				"image %q includes at least one ONBUILD instruction that sets the user to a user that is not allowed", image)
		}
	}
	switch {
	case flag != "":
		if !rs.allowed(flag) {
			return exitcode.New(exitcode.UserNotAllowed,
				"assemble user %q must be numeric and within the range of allowed users", flag)
		}
	case labels[Label] != "":
		if !rs.allowed(labels[Label]) {
			return exitcode.New(exitcode.UserNotAllowed,
				"image %q includes the %q label whose value %q is not within the allowed range", image, Label, labels[Label])
		}
	default:
		if !rs.allowed(imageUser) {
			return exitcode.New(exitcode.UserNotAllowed,
				"image %q must specify a user that is numeric and within the range of allowed users (its USER is %q)", image, imageUser)
		}
	}
	return nil
}
