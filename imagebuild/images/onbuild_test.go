package images

import (
	"reflect"
	"testing"
)

func TestParseOnBuild(t *testing.T) {
	tests := []struct {
		name string
		blob string
		want []string
		ok   bool
	}{
		{"docker schema2", `{"architecture":"amd64","config":{"User":"1001","OnBuild":["USER root","RUN echo hi"]}}`, []string{"USER root", "RUN echo hi"}, true},
		{"docker, none", `{"config":{"User":"1001","OnBuild":null}}`, nil, true},
		{"oci", `{"architecture":"amd64","config":{"User":"1001"}}`, nil, true},
		{"no config", `{}`, nil, true},
		{"junk", `{"config":`, nil, false},
	}
	for _, tt := range tests {
		got, err := parseOnBuild([]byte(tt.blob))
		if (err == nil) != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: parseOnBuild = %q, %v; want %q ok=%v", tt.name, got, err, tt.want, tt.ok)
		}
	}
}
