package sandbox

import "testing"

func TestHostsFile(t *testing.T) {
	extra := []HostEntry{{"index.example", "127.0.0.1"}, {"v6.example", "::1"}}
	tests := []struct{ base, want string }{
		{"127.0.0.1\tlocalhost\n", "127.0.0.1\tlocalhost\n# added for this build\n127.0.0.1\tindex.example\n::1\tv6.example\n"},
		{"127.0.0.1 localhost", "127.0.0.1 localhost\n# added for this build\n127.0.0.1\tindex.example\n::1\tv6.example\n"},
		{"", "# added for this build\n127.0.0.1\tindex.example\n::1\tv6.example\n"},
	}
	for _, tt := range tests {
		if got := string(hostsFile([]byte(tt.base), extra)); got != tt.want {
			t.Errorf("hostsFile(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}
