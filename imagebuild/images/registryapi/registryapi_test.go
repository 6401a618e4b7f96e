package registryapi

import (
	"reflect"
	"testing"
)

func TestParseChallenge(t *testing.T) {
	for _, tt := range []struct {
		in     string
		scheme string
		params map[string]string
	}{
		{`Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"`, "Bearer",
			map[string]string{"realm": "https://auth.example/token", "service": "registry.example", "scope": "repository:a/b:pull"}},
		{`Basic realm="x"`, "Basic", map[string]string{"realm": "x"}},
		{`Bearer realm=unquoted, service=s`, "Bearer", map[string]string{"realm": "unquoted", "service": "s"}},
	} {
		scheme, params := ParseChallenge(tt.in)
		if scheme != tt.scheme || !reflect.DeepEqual(params, tt.params) {
			t.Errorf("ParseChallenge(%q) = %q %v, want %q %v", tt.in, scheme, params, tt.scheme, tt.params)
		}
	}
}

func TestNextLink(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{`</v2/a/referrers/sha256:x?n=2&last=y>; rel="next"`, "/v2/a/referrers/sha256:x?n=2&last=y"},
		{`<https://r.example/v2/a/referrers/sha256:x?last=y>; rel="prev", <https://r.example/next>; rel="next"`, "https://r.example/next"},
		{`</v2/a/other>; rel="prev"`, ""},
	} {
		if got := nextLink(tt.in); got != tt.want {
			t.Errorf("nextLink(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
