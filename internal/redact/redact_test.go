package redact

import "testing"

func TestURL(t *testing.T) {
	tests := []struct{ in, masked, stripped string }{
		{"https://example.com/x", "https://example.com/x", "https://example.com/x"},
		{"https://u:p@example.com/x", "https://***@example.com/x", "https://example.com/x"},
		{"https://token@example.com", "https://***@example.com", "https://example.com"},
		{"git+https://u:p%40x@h/r.git#egg=a", "git+https://***@h/r.git#egg=a", "git+https://h/r.git#egg=a"},
		{"git+https://u:p@github.com/x/y.git@v1#egg=y", "git+https://***@github.com/x/y.git@v1#egg=y", "git+https://github.com/x/y.git@v1#egg=y"},
		{"PIP_INDEX_URL=http://a:b@127.0.0.1:8080/simple other http://c:d@h",
			"PIP_INDEX_URL=http://***@127.0.0.1:8080/simple other http://***@h",
			"PIP_INDEX_URL=http://127.0.0.1:8080/simple other http://h"},
		// an unencoded '@' in the password: the user info ends at the last '@', as for pip
		{"http://u:p@ss@host/simple", "http://***@host/simple", "http://host/simple"},
		{"http://u:it's@host/simple", "http://***@host/simple", "http://host/simple"},
		// an '@' after the host is not user info
		{"http://host/p@x", "http://host/p@x", "http://host/p@x"},
		{"http://host?x=a@b", "http://host?x=a@b", "http://host?x=a@b"},
		{"http://host#a@b", "http://host#a@b", "http://host#a@b"},
		{`index "http://host" mail me@x`, `index "http://host" mail me@x`, `index "http://host" mail me@x`},
		{"Looking in indexes: http://tok@10.0.0.1:8080/simple/", "Looking in indexes: http://***@10.0.0.1:8080/simple/", "Looking in indexes: http://10.0.0.1:8080/simple/"},
		{"--index-url=https://user:p%40ss@host/s http://host/simple", "--index-url=https://***@host/s http://host/simple", "--index-url=https://host/s http://host/simple"},
		{"git@github.com:org/repo.git", "git@github.com:org/repo.git", "git@github.com:org/repo.git"},
		{"/home/me/app", "/home/me/app", "/home/me/app"},
		{"mailto user@example.com", "mailto user@example.com", "mailto user@example.com"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.masked {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.masked)
		}
		if got := StripURL(tt.in); got != tt.stripped {
			t.Errorf("StripURL(%q) = %q, want %q", tt.in, got, tt.stripped)
		}
		if got, want := HasCredentials(tt.in), tt.masked != tt.in; got != want {
			t.Errorf("HasCredentials(%q) = %v, want %v", tt.in, got, want)
		}
	}
}
