package commit

import (
	"archive/tar"
	"strings"
	"time"
)

// normalize returns the header as it goes into a reproducible layer: only
// what an image needs (name, type, mode, numeric owner, size, link target,
// file capabilities and ACL/security xattrs), the modification time capped
// at clamp (when not zero), no access or change times, no user or group
// names, no overlay-private xattrs. It reports false for entries that must
// not be in an image at all: device nodes and FIFOs (the runtime makes
// /dev; whiteouts are regular ".wh." files by now).
func normalize(hdr *tar.Header, clamp time.Time) (*tar.Header, bool) {
	switch hdr.Typeflag {
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return nil, false
	}
	out := &tar.Header{
		Typeflag: hdr.Typeflag,
		Name:     hdr.Name,
		Linkname: hdr.Linkname,
		Size:     hdr.Size,
		Mode:     hdr.Mode,
		Uid:      hdr.Uid,
		Gid:      hdr.Gid,
		ModTime:  hdr.ModTime.Truncate(time.Second),
		Format:   tar.FormatPAX,
	}
	if out.Typeflag == tar.TypeRegA {
		out.Typeflag = tar.TypeReg
	}
	if !clamp.IsZero() && out.ModTime.After(clamp) {
		out.ModTime = clamp
	}
	for k, v := range hdr.PAXRecords {
		if x, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok && keepXattr(x) {
			if out.PAXRecords == nil {
				out.PAXRecords = map[string]string{}
			}
			out.PAXRecords[k] = v
		}
	}
	return out, true
}

// keepXattr keeps what changes behaviour in a container (capabilities,
// ACLs, user xattrs) and drops the storage's and the host's own (overlay
// state, SELinux labels of this machine).
func keepXattr(name string) bool {
	return name == "security.capability" || strings.HasPrefix(name, "system.posix_acl_") || strings.HasPrefix(name, "user.")
}
