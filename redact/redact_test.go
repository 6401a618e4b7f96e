package redact

import "testing"

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/x", "https://example.com/x"},
		{"https://u:p@example.com/x", "https://***@example.com/x"},
		{"https://token@example.com", "https://***@example.com"},
		{"git+https://u:p%40x@h/r.git#egg=a", "git+https://***@h/r.git#egg=a"},
		{"PIP_INDEX_URL=http://a:b@127.0.0.1:8080/simple other http://c:d@h", "PIP_INDEX_URL=http://***@127.0.0.1:8080/simple other http://***@h"},
		{"git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"/home/me/app", "/home/me/app"},
		{"mailto user@example.com", "mailto user@example.com"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
