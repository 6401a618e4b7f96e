package buildenv

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseS2I(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		warn    []string
		wantErr string
	}{
		{name: "empty", in: ""},
		{
			name: "s2i rules",
			in:   "# comment\n\nA=1\n  B = two words  \nQUOTED=\"a b\"\nURL=http://u:p@h/?x=1&y=2\nEMPTY=\n_x9=\n",
			want: []string{"A=1", "B=two words", `QUOTED="a b"`, "URL=http://u:p@h/?x=1&y=2", "EMPTY=", "_x9="},
		},
		{name: "// is no comment here, and no name", in: "A=1\n// note=1\n", wantErr: `.s2i/environment:2: bad line: invalid variable name "// note"`},
		{name: "a dash", in: "A=1\n\nBAD-NAME=1\n", wantErr: `.s2i/environment:3: bad line: invalid variable name "BAD-NAME"`},
		{name: "a space", in: "MY VAR=1\n", wantErr: `.s2i/environment:1: bad line: invalid variable name "MY VAR"`},
		{name: "a leading digit", in: "1X=1\n", wantErr: `:1: bad line: invalid variable name "1X"`},
		{name: "a dot", in: "a.b=1\n", wantErr: `:1: bad line: invalid variable name "a.b"`},
		{name: "non-ASCII", in: "NAMÉ=1\n", wantErr: `:1: bad line: invalid variable name "NAMÉ"`},
		{name: "credentials in a bad name are masked", in: "https://u:s3cret@h/x=1\n", wantErr: `invalid variable name "https://***@h/x"`},
		{name: "export is shell, refused", in: "A=1\nexport X=1\n", wantErr: `.s2i/environment:2: bad line: "export X": this is NAME=VALUE, not shell: write X=... without "export"`},
		{name: "the largest variable", in: "A=" + strings.Repeat("x", MaxVar-2) + "\n", want: []string{"A=" + strings.Repeat("x", MaxVar-2)}},
		{name: "one byte more", in: "A=1\nBIG=" + strings.Repeat("x", MaxVar-3) + "\n", wantErr: ".s2i/environment:2: bad line: variable BIG is 131072 bytes as NAME=VALUE, more than the 131071"},
		{name: "a 1 MB line", in: "A=1\nB=" + strings.Repeat("x", 1<<20) + "\nC=1\n", wantErr: ".s2i/environment:2: bad line: longer than 1048576 bytes"},
		{name: "a line without '=' is an error naming the line", in: "A=1\njust words\nB=2\n", wantErr: ".s2i/environment:2: bad line: no '='"},
		{name: "an empty name is an error", in: "A=1\n=novalue\n", wantErr: ".s2i/environment:2: bad line: empty variable name"},
		{name: "an indented # is no comment for s2i", in: "  # note\n", wantErr: ".s2i/environment:1: bad line"},
		{name: "NUL byte", in: "A=1\nB=x\x00y\n", wantErr: ".s2i/environment:2: NUL byte"},
		{name: "no expansion, CRLF trimmed", in: "A=$HOME\r\nB=${A}\n", want: []string{"A=$HOME", "B=${A}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, warn, err := ParseS2I(strings.NewReader(tt.in), ".s2i/environment")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := env.Strings(); !reflect.DeepEqual(got, nonNil(tt.want)) {
				t.Errorf("env = %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(warn, tt.warn) {
				t.Errorf("warnings = %q, want %q", warn, tt.warn)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		warn    int
		wantErr string
	}{
		{in: nil, want: []string{}},
		{in: []string{" A = 1 ", "B==x"}, want: []string{"A=1", "B==x"}},
		{in: []string{"LIST=a=1,b=2"}, want: []string{"LIST=a=1,b=2"}, warn: 1},
		{in: []string{"NOEQUALS"}, wantErr: "invalid -e value: no '='"},
		{in: []string{"=x"}, wantErr: "empty variable name"},
		{in: []string{"BAD-NAME=1"}, wantErr: `invalid -e value: invalid variable name "BAD-NAME"`},
		{in: []string{"export X=1"}, wantErr: `invalid -e value: "export X": this is NAME=VALUE, not shell`},
		{in: []string{"X=" + strings.Repeat("x", 200<<10)}, wantErr: "invalid -e value: variable X is 204802 bytes as NAME=VALUE, more than the 131071"},
		{in: []string{"N\x00=1"}, wantErr: "invalid -e value for N\x00: NUL byte"},
	}
	for _, tt := range tests {
		env, warn, err := ParseFlags(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseFlags(%.80q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(env.Strings(), tt.want) || len(warn) != tt.warn {
			t.Errorf("ParseFlags(%.80q) = %.80q, %q, %v; want %.80q, %d warnings", tt.in, env.Strings(), warn, err, tt.want, tt.warn)
		}
	}
}

func TestBuild(t *testing.T) {
	src := t.TempDir()
	mkfile(t, filepath.Join(src, ".s2i/environment"), "A=src\nB=src\nC=src\n")
	envFile := filepath.Join(t.TempDir(), "env")
	mkfile(t, envFile, "// comment\n# comment\nC=file\nD=file\nnonsense\n")
	env, warn, err := Build(src, []string{"B=flag", "C=flag"}, []string{envFile, "/nonexistent/env"})
	if err != nil {
		t.Fatal(err)
	}
	// s2i's order: source, -e, -E; the last value of a name wins.
	want := []string{"A=src", "B=flag", "C=file", "D=file"}
	if !reflect.DeepEqual(env.Strings(), want) {
		t.Errorf("env = %q, want %q", env.Strings(), want)
	}
	if len(warn) != 2 || !strings.Contains(warn[0], envFile+":5: skipped") || !strings.Contains(warn[1], "ignoring environment file /nonexistent/env") {
		t.Errorf("warnings = %q", warn)
	}
	if s := env.String(); strings.Contains(s, "src") || strings.Contains(s, "flag") || s != "A=*** B=*** C=*** D=***" {
		t.Errorf("String() = %q shows values", s)
	}
}

// -E files: lines s2i skips are warnings (as in s2i), but a name or a size
// that s2i would pass on is an error naming the file and line.
func TestReadEnvFile(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		warn    string
		wantErr string
	}{
		{name: "comments and skipped lines", in: "// c\n# c\nA=1\nnonsense\n", want: []string{"A=1"}, warn: ":4: skipped: no '='"},
		{name: "a dash", in: "A=1\nBAD-NAME=1\n", wantErr: `:2: bad line: invalid variable name "BAD-NAME"`},
		{name: "export", in: "export X=1\n", wantErr: `:1: bad line: "export X": this is NAME=VALUE, not shell`},
		{name: "oversized", in: "A=1\nA=2\nBIG=" + strings.Repeat("x", MaxVar) + "\n", wantErr: ":3: bad line: variable BIG is"},
		{name: "a 1 MB line", in: "BIG=" + strings.Repeat("x", 1<<20) + "\n", wantErr: ":1: bad line: longer than 1048576 bytes"},
		{name: "NUL", in: "A=x\x00\n", wantErr: ":1: NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "env")
			mkfile(t, f, tt.in)
			env, warn, err := ReadEnvFile(f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), f+tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, f+tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(env.Strings(), tt.want) {
				t.Fatalf("env = %q, %v; want %q", env.Strings(), err, tt.want)
			}
			if len(warn) != 1 || !strings.Contains(warn[0], f+tt.warn) {
				t.Errorf("warnings = %q, want %q", warn, tt.warn)
			}
		})
	}
}

// The whole environment is bounded too, naming the largest variables; the
// bound holds across .s2i/environment, -e and -E together.
func TestTotal(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	var flags []string
	for i := range 10 {
		flags = append(flags, fmt.Sprintf("V%d=%s", i, big))
	}
	envFile := filepath.Join(t.TempDir(), "env")
	mkfile(t, envFile, "HUGE="+big+big[:20<<10]+"\n")
	tests := []struct {
		name    string
		source  string // .s2i/environment
		flags   []string
		files   []string
		wantErr string
	}{
		{name: "ten 100 KiB variables", flags: flags},
		{name: "and one more from the source", source: "S=" + big + big[:10<<10] + "\n", flags: flags,
			wantErr: "the build environment is 1136683 bytes, more than the 1048576 a build allows: the largest variables are S (112643 bytes), V0 (102404 bytes)"},
		{name: "and one more from -E", flags: flags, files: []string{envFile},
			wantErr: "the largest variables are HUGE (122886 bytes), V0 (102404 bytes), V1 (102404 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			if tt.source != "" {
				mkfile(t, filepath.Join(src, ".s2i/environment"), tt.source)
			}
			_, _, err := Build(src, tt.flags, tt.files)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestReadS2IFileSymlinks(t *testing.T) {
	outside := t.TempDir()
	mkfile(t, filepath.Join(outside, "secret"), "SECRET=1\n")
	tests := []struct {
		name    string
		setup   func(src string)
		want    []string
		wantErr string
	}{
		{name: "no .s2i", setup: func(string) {}, want: []string{}},
		{name: "no environment", setup: func(src string) { mkdir(t, filepath.Join(src, ".s2i")) }, want: []string{}},
		{
			name: "environment is a symlink",
			setup: func(src string) {
				mkdir(t, filepath.Join(src, ".s2i"))
				symlink(t, filepath.Join(outside, "secret"), filepath.Join(src, ".s2i/environment"))
			},
			wantErr: "symlink",
		},
		{
			name:    ".s2i is a symlink",
			setup:   func(src string) { symlink(t, outside, filepath.Join(src, ".s2i")) },
			wantErr: "symlinks are not followed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			tt.setup(src)
			env, _, err := ReadS2IFile(src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(env.Strings(), tt.want) {
				t.Fatalf("env = %q, %v; want %q", env.Strings(), err, tt.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	got := Merge(Env{{"A", "1"}, {"B", "1"}}, nil, Env{{"C", "2"}, {"A", "2"}}, Env{{"B", "3"}})
	want := Env{{"A", "2"}, {"B", "3"}, {"C", "2"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge = %v, want %v", got.Strings(), want.Strings())
	}
}

func mkfile(t *testing.T, p, content string) {
	t.Helper()
	mkdir(t, filepath.Dir(p))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// A credential in .s2i/environment reaches the image with the source (the
// file is part of it): a warning says so and names the variable only.
func TestReadS2IFileCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		warn       []string // variables warned about
	}{
		{"none", "A=http://idx/simple\nB=x\n", nil},
		{"index URL", "PIP_INDEX_URL=http://u:SECRETPW@idx/simple\nB=x\n", []string{"PIP_INDEX_URL"}},
		{"two", "X=https://TOKEN@h/simple https://h2\nY=git+https://u:SECRETPW@h/r.git\n", []string{"X", "Y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			mkfile(t, filepath.Join(src, ".s2i/environment"), tc.file)
			_, warn, err := ReadS2IFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if len(warn) != len(tc.warn) {
				t.Fatalf("warnings %q, want one for each of %v", warn, tc.warn)
			}
			for i, name := range tc.warn {
				if !strings.HasPrefix(warn[i], ".s2i/environment: "+name+" holds URL credentials") || strings.Contains(warn[i], "SECRETPW") || strings.Contains(warn[i], "TOKEN") {
					t.Errorf("warning %q: want one about %s without the secret", warn[i], name)
				}
			}
		})
	}
}
