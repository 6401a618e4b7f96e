package dockerfile

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/pys2i/pys2i/imagebuild/assembleuser"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/internal/exitcode"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func builderConfig() *v1.Image {
	return &v1.Image{Config: v1.ImageConfig{
		User: "1001",
		Env:  []string{"PATH=/usr/bin"},
		Labels: map[string]string{
			"io.openshift.s2i.scripts-url":   "image:///usr/libexec/s2i",
			"io.openshift.s2i.assemble-user": "1001",
		},
	}}
}

func TestGenerateGolden(t *testing.T) {
	app, err := filepath.Abs("testdata/app")
	if err != nil {
		t.Fatal(err)
	}
	hostScripts := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostScripts, "assemble"), []byte("#!/bin/sh\necho host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	def := regexp.MustCompile(source.DefaultExclude)
	tests := []struct {
		name   string
		req    Request
		golden string
		tree   []string // files of the context, relative to its directory
	}{
		{
			name: "builder labels, run from .s2i/bin",
			req: Request{
				Source:  source.Options{Source: app, Exclude: def},
				Builder: "localhost/pys2i/python:3.12", BuilderConfig: builderConfig(),
				EnvFlags: []string{"PIP_INDEX_URL=http://127.0.0.1:8080/simple", "APP_MODULE=wsgi:app"},
				Tag:      "localhost/app:latest", Description: "The sample app",
			},
			golden: "basic.Containerfile",
			tree: []string{"Dockerfile", "upload/scripts/run", "upload/src/.s2i/bin/", "upload/src/.s2i/environment",
				"upload/src/app.py", "upload/src/requirements.txt", "upload/src/web/index.html"},
		},
		{
			name: "unknown builder, file:// scripts, destination, incremental, context dir",
			req: Request{
				Source:     source.Options{Source: app, ContextDir: "web", Exclude: def},
				Builder:    "localhost/pys2i/python:3.12",
				ScriptsURL: "file://" + hostScripts, Destination: "/opt/dest", AssembleUser: "1002:0",
				IncrementalFrom: "localhost/app:previous", AppName: "sample",
			},
			golden: "incremental.Containerfile",
			tree:   []string{"Dockerfile", "upload/scripts/assemble", "upload/src/index.html"},
		},
		{
			name: "URL credentials become build arguments, never ENV",
			req: Request{
				Source:  source.Options{Source: app, ContextDir: "web", Exclude: def},
				Builder: "localhost/pys2i/python:3.12", BuilderConfig: builderConfig(),
				EnvFlags: []string{"PIP_INDEX_URL=http://user:SECRETPW@127.0.0.1:8080/simple", "APP_MODULE=wsgi:app",
					"PIP_EXTRA_INDEX_URL=http://127.0.0.1:8081/simple https://TOKEN@extra/simple", "PIP_TRUSTED_HOST=127.0.0.1"},
				Tag: "localhost/app:latest",
			},
			golden: "credentials.Containerfile",
			tree:   []string{"Dockerfile", "upload/scripts/", "upload/src/index.html"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			tt.req.Path = out + "/"
			res, err := Generate(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Path != filepath.Join(out, "Dockerfile") {
				t.Errorf("path = %s", res.Path)
			}
			got, err := os.ReadFile(res.Path)
			if err != nil {
				t.Fatal(err)
			}
			got = []byte(strings.NewReplacer(app, "$SRC", hostScripts, "$SCRIPTS").Replace(string(got)))
			golden := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("Containerfile differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
			if files := listTree(t, out); strings.Join(files, " ") != strings.Join(tt.tree, " ") {
				t.Errorf("context:\n %v\nwant\n %v", files, tt.tree)
			}
			for _, f := range tt.tree {
				if strings.HasPrefix(f, "upload/scripts/") {
					if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Mode().Perm() != 0o755 {
						t.Errorf("%s: %v, want mode 0755", f, err)
					}
				}
			}
		})
	}
}

// No secret reaches the Containerfile or its context; the log names each
// build argument and how to pass it.
func TestGenerateCredentials(t *testing.T) {
	app := t.TempDir()
	if err := os.WriteFile(filepath.Join(app, "app.py"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	res, err := Generate(context.Background(), Request{
		Path: out + "/", Source: source.Options{Source: app}, Builder: "localhost/b",
		EnvFlags: []string{"PIP_INDEX_URL=http://user:SECRETPW@idx/simple", "A=http://idx/simple"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.BuildArgs, " ") != "PIP_INDEX_URL" {
		t.Errorf("build args %v, want [PIP_INDEX_URL]", res.BuildArgs)
	}
	if w := strings.Join(res.Warnings, "\n"); !strings.Contains(w, "--build-arg PIP_INDEX_URL=...") || strings.Contains(w, "SECRETPW") {
		t.Errorf("warnings %q: want how to pass PIP_INDEX_URL, without the secret", w)
	}
	err = filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if bytes.Contains(b, []byte("SECRETPW")) {
			t.Errorf("%s holds the secret:\n%s", p, b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func listTree(t *testing.T, dir string) []string {
	var files []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if fi.IsDir() {
			if ents, _ := os.ReadDir(p); len(ents) == 0 {
				files = append(files, rel+"/")
			}
			return nil
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

func TestGenerateErrors(t *testing.T) {
	app, _ := filepath.Abs("testdata/app")
	only1001, _ := assembleuser.ParseRanges("1001")
	tests := []struct {
		name    string
		req     func(out string) Request
		wantErr string
		code    int
	}{
		{
			name: "assemble user not allowed",
			req: func(out string) Request {
				return Request{Path: out + "/", Source: source.Options{Source: app}, AssembleUser: "0", AllowedUIDs: only1001}
			},
			wantErr: `assemble user "0" must be numeric`, code: exitcode.UserNotAllowed,
		},
		{
			name: "default user 1001 is allowed, missing source is not",
			req: func(out string) Request {
				return Request{Path: out + "/", Source: source.Options{Source: "/nonexistent"}, AllowedUIDs: only1001}
			},
			wantErr: "source /nonexistent does not exist", code: 1,
		},
		{
			name: "leftover context",
			req: func(out string) Request {
				os.MkdirAll(filepath.Join(out, "upload/src/x"), 0o755)
				return Request{Path: out + "/", Source: source.Options{Source: app}}
			},
			wantErr: "already exists: remove it first", code: 1,
		},
		{
			name: "output inside the source",
			req: func(string) Request {
				return Request{Path: filepath.Join(app, "out", "Dockerfile"), Source: source.Options{Source: app}}
			},
			wantErr: "inside the source", code: 1,
		},
		{
			name: "line break in a value",
			req: func(out string) Request {
				return Request{Path: out + "/", Source: source.Options{Source: app}, EnvFlags: []string{"A=x\ny"}}
			},
			wantErr: "line break", code: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			_, err := Generate(context.Background(), tt.req(out))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
			// A failed run leaves no context behind, but keeps one it found.
			if _, err := os.Stat(filepath.Join(out, "upload")); (err == nil) != (tt.name == "leftover context") {
				t.Errorf("upload/ after the failure: %v", err)
			}
			if c := exitcode.Of(err); c != tt.code {
				t.Errorf("exit code %d, want %d", c, tt.code)
			}
		})
	}
	// The failed "inside the source" run left nothing in the source.
	if _, err := os.Stat(filepath.Join(app, "out")); err == nil {
		os.RemoveAll(filepath.Join(app, "out"))
		t.Error("testdata/app/out was created")
	}
}
