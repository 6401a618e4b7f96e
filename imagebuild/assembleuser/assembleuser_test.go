package assembleuser

import (
	"strings"
	"testing"

	"github.com/pys2i/pys2i/internal/exitcode"
)

func TestResolve(t *testing.T) {
	l := map[string]string{Label: "1002"}
	tests := []struct {
		flag   string
		labels map[string]string
		user   string
		want   string
	}{
		{"1003", l, "1001", "1003"},
		{"", l, "1001", "1002"},
		{"", nil, "1001", "1001"},
		{"", nil, "", ""},
	}
	for _, tt := range tests {
		if got := Resolve(tt.flag, tt.labels, tt.user); got != tt.want {
			t.Errorf("Resolve(%q, %v, %q) = %q, want %q", tt.flag, tt.labels, tt.user, got, tt.want)
		}
	}
}

func TestParseRanges(t *testing.T) {
	tests := []struct {
		in       string
		in1, out []uint32
		wantErr  bool
	}{
		{in: ""},
		{in: "1000", in1: []uint32{1000}, out: []uint32{0, 999, 1001}},
		{in: "1-", in1: []uint32{1, 1001, 1 << 31}, out: []uint32{0}},
		{in: "-100", in1: []uint32{0, 100}, out: []uint32{101}},
		{in: "100-200, 1000", in1: []uint32{100, 150, 200, 1000}, out: []uint32{99, 201, 999}},
		{in: "abc", wantErr: true},
		{in: "-", wantErr: true},
		{in: "1-2-3", wantErr: true},
		{in: "200-100", wantErr: true},
		{in: "1,,2", wantErr: true},
		{in: "-5-", wantErr: true},
	}
	for _, tt := range tests {
		rs, err := ParseRanges(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseRanges(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		for _, u := range tt.in1 {
			if !rs.Contains(u) {
				t.Errorf("%q should contain %d", tt.in, u)
			}
		}
		for _, u := range tt.out {
			if rs.Contains(u) {
				t.Errorf("%q should not contain %d", tt.in, u)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	rs, err := ParseRanges("1-")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		rs      Ranges
		flag    string
		labels  map[string]string
		user    string
		onBuild []string
		wantErr string
	}{
		{name: "no ranges, root is fine", user: ""},
		{name: "numeric image user", rs: rs, user: "1001"},
		{name: "uid:gid", rs: rs, user: "1001:0"},
		{name: "root image user", rs: rs, user: "0", wantErr: `image "b" must specify a user that is numeric`},
		{name: "named image user", rs: rs, user: "default", wantErr: "must specify a user that is numeric"},
		{name: "empty image user", rs: rs, user: "", wantErr: "must specify a user that is numeric"},
		{name: "flag beats the image user", rs: rs, flag: "1001", user: "root"},
		{name: "bad flag", rs: rs, flag: "root", user: "1001", wantErr: `assemble user "root" must be numeric`},
		{name: "label beats the image user", rs: rs, labels: map[string]string{Label: "1001:0"}, user: "root"},
		{name: "bad label", rs: rs, labels: map[string]string{Label: "0"}, user: "1001", wantErr: `label whose value "0" is not within`},
		{name: "onbuild user", rs: rs, user: "1001", onBuild: []string{"RUN x", "user 0"}, wantErr: "ONBUILD instruction"},
		{name: "onbuild allowed", rs: rs, user: "1001", onBuild: []string{"USER 1002"}},
		{name: "onbuild user:group, tab", rs: rs, user: "1001", onBuild: []string{"USER\t1002:0"}},
		{name: "onbuild root by name", rs: rs, user: "1001", onBuild: []string{"USER root"}, wantErr: "ONBUILD instruction"},
		{name: "onbuild user without value", rs: rs, user: "1001", onBuild: []string{"USER"}, wantErr: "ONBUILD instruction"},
		{name: "onbuild unchecked without ranges", user: "root", onBuild: []string{"USER root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.rs, "b", tt.flag, tt.labels, tt.user, tt.onBuild)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			if exitcode.Of(err) != exitcode.UserNotAllowed {
				t.Errorf("exit code %d, want 15", exitcode.Of(err))
			}
		})
	}
}
