package commit

import (
	"archive/tar"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	epoch := time.Unix(315532800, 0)
	late := time.Unix(1700000000, 123)
	early := time.Unix(1000, 0)
	for _, tc := range []struct {
		name   string
		in     tar.Header
		clamp  time.Time
		keep   bool
		mtime  time.Time
		xattrs []string
	}{
		{"late file clamped", tar.Header{Typeflag: tar.TypeReg, Name: "a", ModTime: late, Uname: "u", AccessTime: late}, epoch, true, epoch, nil},
		{"early file kept", tar.Header{Typeflag: tar.TypeReg, Name: "a", ModTime: early}, epoch, true, early, nil},
		{"no clamp", tar.Header{Typeflag: tar.TypeDir, Name: "d/", ModTime: late}, time.Time{}, true, late.Truncate(time.Second), nil},
		{"char device dropped", tar.Header{Typeflag: tar.TypeChar, Name: "dev/null"}, epoch, false, time.Time{}, nil},
		{"fifo dropped", tar.Header{Typeflag: tar.TypeFifo, Name: "p"}, epoch, false, time.Time{}, nil},
		{"xattrs filtered", tar.Header{Typeflag: tar.TypeReg, Name: "x", ModTime: early, PAXRecords: map[string]string{
			"SCHILY.xattr.security.capability": "c", "SCHILY.xattr.trusted.overlay.origin": "o",
			"SCHILY.xattr.security.selinux": "s", "SCHILY.xattr.user.k": "v", "atime": "1"}}, epoch, true, early,
			[]string{"SCHILY.xattr.security.capability", "SCHILY.xattr.user.k"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, keep := normalize(&tc.in, tc.clamp)
			if keep != tc.keep {
				t.Fatalf("keep = %v, want %v", keep, tc.keep)
			}
			if !keep {
				return
			}
			if !out.ModTime.Equal(tc.mtime) {
				t.Errorf("mtime %v, want %v", out.ModTime, tc.mtime)
			}
			if out.Uname != "" || out.Gname != "" || !out.AccessTime.IsZero() || !out.ChangeTime.IsZero() {
				t.Errorf("names or times left: %+v", out)
			}
			if len(out.PAXRecords) != len(tc.xattrs) {
				t.Errorf("PAX records %v, want %v", out.PAXRecords, tc.xattrs)
			}
			for _, k := range tc.xattrs {
				if _, ok := out.PAXRecords[k]; !ok {
					t.Errorf("lost %s", k)
				}
			}
		})
	}
}
