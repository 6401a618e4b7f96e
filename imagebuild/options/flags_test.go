package options

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
)

func TestParseInjections(t *testing.T) {
	tests := []struct {
		in      []string
		want    []Injection
		wantErr string
	}{
		{in: nil},
		{in: []string{"/etc/secret:/tmp", "conf:etc;/a:"}, want: []Injection{{"/etc/secret", "/tmp"}, {"conf", "etc"}, {"/a", ""}}},
		{in: []string{"/a"}, want: []Injection{{"/a", ""}}},
		{in: []string{"/a*b:/c"}, wantErr: `the character '*' is not allowed`},
		{in: []string{"/a:/b$c"}, wantErr: `'$'`},
		{in: []string{":/x"}, wantErr: "want SOURCE:DESTINATION"},
		{in: []string{"/a:/b:/c"}, wantErr: "want SOURCE:DESTINATION"},
	}
	for _, tt := range tests {
		got, err := ParseInjections(tt.in)
		check(t, "ParseInjections", tt.in, got, tt.want, err, tt.wantErr)
	}
}

func TestParseVolumes(t *testing.T) {
	tests := []struct {
		in      []string
		want    []sandbox.Mount
		wantErr string
	}{
		{in: []string{"/srv/cache:/cache", "/etc/x/:/opt/x/:ro", "/a:/b:rw"}, want: []sandbox.Mount{{Source: "/srv/cache", Target: "/cache"}, {Source: "/etc/x", Target: "/opt/x", ReadOnly: true}, {Source: "/a", Target: "/b"}}},
		{in: []string{"cache:/cache"}, wantErr: "absolute host path"},
		{in: []string{"/a:b"}, wantErr: "target must be an absolute path"},
		{in: []string{"/a:/"}, wantErr: "other than /"},
		{in: []string{"/a:/b:z"}, wantErr: `unknown option "z"`},
		{in: []string{"/a"}, wantErr: "want SOURCE:TARGET"},
		{in: []string{"/a:/b:ro:x"}, wantErr: "want SOURCE:TARGET"},
	}
	for _, tt := range tests {
		got, err := ParseVolumes(tt.in)
		check(t, "ParseVolumes", tt.in, got, tt.want, err, tt.wantErr)
	}
}

func TestParseNetwork(t *testing.T) {
	for in, want := range map[string]Network{"": NetworkHost, "host": NetworkHost, "none": NetworkNone} {
		if got, err := ParseNetwork(in); err != nil || got != want {
			t.Errorf("ParseNetwork(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"bridge", "container:abc", "netns:/proc/1/ns/net", "Host"} {
		if _, err := ParseNetwork(in); err == nil || !strings.Contains(err.Error(), "host") {
			t.Errorf("ParseNetwork(%q) = %v, want an error", in, err)
		}
	}
}

func TestParseCapDrop(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr string
	}{
		{in: nil},
		{in: []string{"net_raw,CAP_CHOWN", "chown", "Sys_Admin"}, want: []string{"CAP_NET_RAW", "CAP_CHOWN", "CAP_SYS_ADMIN"}},
		{in: []string{"all"}, want: []string{"ALL"}},
		{in: []string{"cap_nope"}, wantErr: `unknown capability "cap_nope"`},
	}
	for _, tt := range tests {
		got, err := ParseCapDrop(tt.in)
		check(t, "ParseCapDrop", tt.in, got, tt.want, err, tt.wantErr)
	}
}

func TestParseAddHosts(t *testing.T) {
	tests := []struct {
		in      []string
		want    []sandbox.HostEntry
		wantErr string
	}{
		{in: []string{"index.example.com:127.0.0.1", "v6:::1", "my_host:10.0.0.2"}, want: []sandbox.HostEntry{{Name: "index.example.com", IP: "127.0.0.1"}, {Name: "v6", IP: "::1"}, {Name: "my_host", IP: "10.0.0.2"}}},
		{in: []string{"host"}, wantErr: "want HOST:IP"},
		{in: []string{"host:1.2.3"}, wantErr: "not an IP address"},
		{in: []string{"bad host:1.2.3.4"}, wantErr: "not a host name"},
		{in: []string{":1.2.3.4"}, wantErr: "not a host name"},
	}
	for _, tt := range tests {
		got, err := ParseAddHosts(tt.in)
		check(t, "ParseAddHosts", tt.in, got, tt.want, err, tt.wantErr)
	}
}

func TestCheckCallbackURL(t *testing.T) {
	for _, ok := range []string{"", "http://127.0.0.1:8080/cb", "https://u:p@hooks.example/x"} {
		if err := CheckCallbackURL(ok); err != nil {
			t.Errorf("CheckCallbackURL(%q) = %v", ok, err)
		}
	}
	for in, want := range map[string]string{
		"ftp://u:secret@h/x":     "ftp://***@h/x: want an http",
		"http:///path":           "no host",
		"127.0.0.1:8080/cb":      "not a URL",
		"localhost/cb":           "want an http",
		"http://u:secret@h\x7f/": "not a URL",
	} {
		err := CheckCallbackURL(in)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckCallbackURL(%q) = %v, want %q and no secret", in, err, want)
		}
	}
}

func check[T any](t *testing.T, fn string, in []string, got, want T, err error, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s(%q) error = %v, want %q", fn, in, err, wantErr)
		}
		return
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%s(%q) = %+v, %v; want %+v", fn, in, got, err, want)
	}
}
