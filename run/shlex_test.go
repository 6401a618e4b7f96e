package run

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"   ", nil, ""},
		{"--bind=0.0.0.0:8080 --access-logfile=-", []string{"--bind=0.0.0.0:8080", "--access-logfile=-"}, ""},
		{"  -w 3\t--timeout  60\n", []string{"-w", "3", "--timeout", "60"}, ""},
		{`--name "my app"`, []string{"--name", "my app"}, ""},
		{`--name 'my "app"'`, []string{"--name", `my "app"`}, ""},
		{`--name my\ app`, []string{"--name", "my app"}, ""},
		{`--x "a\"b\\c\$d"`, []string{"--x", `a"b\c$d`}, ""},
		{`--x "a\nb"`, []string{"--x", `a\nb`}, ""},
		{`--x=''`, []string{"--x="}, ""},
		{`'' x`, []string{"", "x"}, ""},
		{`a"b c"d`, []string{"ab cd"}, ""},
		{`*.py $HOME`, []string{"*.py", "$HOME"}, ""},
		{`--name "unbalanced`, nil, "unterminated double quote at position 8"},
		{`--name 'x`, nil, "unterminated single quote"},
		{`--name x\`, nil, "trailing backslash"},
	}
	for _, tt := range tests {
		got, err := SplitArgs(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("SplitArgs(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
