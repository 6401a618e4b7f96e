package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/pys2i/pys2i/imagebuild/assembleuser"
	"github.com/pys2i/pys2i/imagebuild/dockerfile"
	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/internal/exitcode"
)

func defaults() options.Options {
	return options.Options{
		Source: "src", Builder: "builder",
		Exclude:         regexp.MustCompile(source.DefaultExclude),
		ImageScriptsURL: "image:///usr/libexec/s2i",
		PullPolicy:      images.PullIfNotPresent, IncrementalPullPolicy: images.PullIfNotPresent, RuntimePullPolicy: images.PullIfNotPresent,
		TLSVerify: true, Network: options.NetworkHost,
		PipCacheMaxAge: 30 * 24 * time.Hour, PipCacheMaxSize: 10 << 30,
	}
}

func ranges(s string) assembleuser.Ranges {
	r, err := assembleuser.ParseRanges(s)
	if err != nil {
		panic(err)
	}
	return r
}

func TestBuildOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		config  string // written to $XDG_CONFIG_HOME/pys2i/config.yaml, or to $CFG in args
		want    func(*options.Options)
		wantErr string
		code    int
	}{
		{name: "defaults", args: []string{"build", "src", "builder"}, want: func(*options.Options) {}},
		{
			name: "s2i flags",
			args: []string{"build", "src", "builder", "localhost/app:1",
				"-r", "main", "--context-dir", "web", "--exclude", "", "-e", "A=1", "--env", "B=x,y=z", "-E", "env1", "-E", "env2",
				"-s", "image:///opt/s2i", "-d", "/opt/dest", "--assemble-user", "1002", "-u", "1-", "-p", "never",
				"--tls-verify=false", "--incremental", "--incremental-from", "localhost/app:0", "--rm",
				"-n", "App", "--description", "Desc", "-q", "--loglevel", "3", "--ignore-submodules", "-c", "--keep-symlinks"},
			want: func(o *options.Options) {
				o.Tag, o.Ref, o.ContextDir, o.Exclude = "localhost/app:1", "main", "web", nil
				o.Env, o.EnvFiles = []string{"A=1", "B=x,y=z"}, []string{"env1", "env2"}
				o.ScriptsURL, o.Destination, o.AssembleUser = "image:///opt/s2i", "/opt/dest", "1002"
				o.AllowedUIDs, o.PullPolicy, o.TLSVerify = ranges("1-"), images.PullNever, false
				o.Incremental, o.IncrementalFrom, o.RemovePrevious = true, "localhost/app:0", true
				o.AppName, o.Description, o.Quiet, o.LogLevel, o.IgnoreSubmodules = "App", "Desc", true, 3, true
			},
		},
		{
			name: "runtime image and artifacts",
			args: []string{"build", "src", "builder", "--runtime-image", "localhost/min", "-a", "/opt/app-root:app;/etc/x", "--runtime-pull-policy", "always"},
			want: func(o *options.Options) {
				o.RuntimeImage, o.RuntimePullPolicy = "localhost/min", images.PullAlways
				o.RuntimeArtifacts = []options.Artifact{{Source: "/opt/app-root", Destination: "app"}, {Source: "/etc/x"}}
			},
		},
		{
			name: "sandbox and registry flags",
			args: []string{"build", "src", "builder", "-i", "/etc/secret:/tmp;conf:", "--inject", "/x:/y",
				"-v", "/srv/cache:/cache:ro", "--volume", "/a:/b", "--network", "none", "--cap-drop", "net_raw,chown", "--cap-drop", "SYS_ADMIN",
				"--add-host", "index.test:127.0.0.1", "--add-host", "v6:::1", "--callback-url", "http://u:p@127.0.0.1:9/cb", "--dockercfg-path", "/auth.json"},
			want: func(o *options.Options) {
				o.Injections = []options.Injection{{Source: "/etc/secret", Destination: "/tmp"}, {Source: "conf"}, {Source: "/x", Destination: "/y"}}
				o.Volumes = []sandbox.Mount{{Source: "/srv/cache", Target: "/cache", ReadOnly: true}, {Source: "/a", Target: "/b"}}
				o.Network, o.CapDrop = options.NetworkNone, []string{"CAP_NET_RAW", "CAP_CHOWN", "CAP_SYS_ADMIN"}
				o.AddHosts = []sandbox.HostEntry{{Name: "index.test", IP: "127.0.0.1"}, {Name: "v6", IP: "::1"}}
				o.CallbackURL, o.DockerCfgPath = "http://u:p@127.0.0.1:9/cb", "/auth.json"
			},
		},
		{
			name:   "sandbox flags from the environment and the config file",
			args:   []string{"build", "src", "builder"},
			env:    map[string]string{"PYS2I_CAP_DROP": "ALL", "PYS2I_NETWORK": "none", "PYS2I_ADD_HOST": "a:1.2.3.4 b:5.6.7.8"},
			config: "volume: [/srv/c:/c]\ninject: [\"/s:/t\"]\n",
			want: func(o *options.Options) {
				o.CapDrop, o.Network = []string{"ALL"}, options.NetworkNone
				o.AddHosts = []sandbox.HostEntry{{Name: "a", IP: "1.2.3.4"}, {Name: "b", IP: "5.6.7.8"}}
				o.Volumes = []sandbox.Mount{{Source: "/srv/c", Target: "/c"}}
				o.Injections = []options.Injection{{Source: "/s", Destination: "/t"}}
			},
		},
		{
			name: "URL fragment dropped as s2i does",
			args: []string{"build", "https://example.com/app.git#dev", "builder"},
			want: func(o *options.Options) { o.Source = "https://example.com/app.git" },
		},
		{
			name: "environment variables",
			args: []string{"build", "src", "builder"},
			env:  map[string]string{"PYS2I_PULL_POLICY": "always", "PYS2I_TLS_VERIFY": "false", "PYS2I_ENV": "A=1 B=2", "PYS2I_CONTEXT_DIR": "web", "PYS2I_LOGLEVEL": "2"},
			want: func(o *options.Options) {
				o.PullPolicy, o.TLSVerify, o.Env, o.ContextDir, o.LogLevel = images.PullAlways, false, []string{"A=1", "B=2"}, "web", 2
			},
		},
		{
			name:   "default config file",
			args:   []string{"build", "src", "builder", "app"},
			config: "pull-policy: never\nenv:\n  - A=hello world\n  - B=2\nallowed-uids: \"1000-2000\"\nincremental: true\nloglevel: 1\n",
			want: func(o *options.Options) {
				o.Tag, o.PullPolicy, o.Env, o.AllowedUIDs, o.Incremental, o.LogLevel = "app", images.PullNever, []string{"A=hello world", "B=2"}, ranges("1000-2000"), true, 1
			},
		},
		{
			name:    "config file values are validated",
			args:    []string{"build", "src", "builder"},
			config:  "incremental: true\n",
			wantErr: "an incremental build needs a TAG", code: 1,
		},
		{
			name:    "unknown config key",
			args:    []string{"build", "--config", "$CFG", "src", "builder"},
			config:  "pull-policy: never\npullpolicy: never\n",
			wantErr: `unknown key "pullpolicy"`, code: 1,
		},
		{
			name:   "precedence",
			args:   []string{"build", "--config", "$CFG", "src", "builder", "-p", "always", "-e", "A=flag"},
			env:    map[string]string{"PYS2I_PULL_POLICY": "never", "PYS2I_DESTINATION": "/from/env"},
			config: "pull-policy: if-not-present\ndestination: /from/file\ndescription: from file\nenv: [A=file]\n",
			want: func(o *options.Options) {
				o.PullPolicy, o.Destination, o.Description, o.Env = images.PullAlways, "/from/env", "from file", []string{"A=flag"}
			},
		},
		{name: "missing explicit config", args: []string{"build", "--config", "/nonexistent.yaml", "src", "builder"}, wantErr: "config file: stat /nonexistent.yaml", code: 1},
		{name: "bad config", args: []string{"build", "src", "builder"}, config: "pull-policy: [", wantErr: "config file", code: 1},
		{name: "too few arguments", args: []string{"build", "src"}, wantErr: "want SOURCE BUILDER [TAG], got 1 arguments", code: 1},
		{name: "too many arguments", args: []string{"build", "a", "b", "c", "d"}, wantErr: "got 4 arguments", code: 1},
		{name: "unknown flag", args: []string{"build", "src", "builder", "--nope"}, wantErr: "pys2i build: unknown flag: --nope", code: 1},
		{name: "bad pull policy", args: []string{"build", "src", "builder", "-p", "sometimes"}, wantErr: "invalid pull policy", code: 1},
		{name: "bad pull policy in env", args: []string{"build", "src", "builder"}, env: map[string]string{"PYS2I_PULL_POLICY": "x"}, wantErr: "invalid pull policy", code: 1},
		{name: "bad -e", args: []string{"build", "src", "builder", "-e", "FOO"}, wantErr: "invalid -e value", code: 1},
		{name: "bad uids", args: []string{"build", "src", "builder", "-u", "abc"}, wantErr: "invalid --allowed-uids", code: 1},
		{name: "bad exclude", args: []string{"build", "src", "builder", "--exclude", "("}, wantErr: "invalid --exclude", code: 1},
		{name: "bad tag", args: []string{"build", "src", "builder", "Bad:Tag"}, wantErr: "invalid TAG", code: 1},
		{name: "bad artifact", args: []string{"build", "src", "builder", "--runtime-image", "rt", "-a", "rel"}, wantErr: "absolute", code: 1},
		{name: "dockerfile with runtime image", args: []string{"build", "src", "builder", "--as-dockerfile", "x/", "--runtime-image", "rt"}, wantErr: "--runtime-image cannot be used with --as-dockerfile", code: 1},
		{name: "incremental with runtime image", args: []string{"build", "src", "builder", "t", "--incremental", "--runtime-image", "rt"},
			want: func(o *options.Options) { o.Tag, o.Incremental, o.RuntimeImage = "t", true, "rt" }},
		{name: "bad inject", args: []string{"build", "src", "builder", "--inject", "/a*b:/c"}, wantErr: "invalid --inject", code: 1},
		{name: "bad volume", args: []string{"build", "src", "builder", "-v", "cache:/cache"}, wantErr: "invalid --volume", code: 1},
		{name: "bad network", args: []string{"build", "src", "builder", "--network", "bridge"}, wantErr: `invalid --network "bridge"`, code: 1},
		{name: "bad network in env", args: []string{"build", "src", "builder"}, env: map[string]string{"PYS2I_NETWORK": "container:x"}, wantErr: "invalid --network", code: 1},
		{name: "bad cap", args: []string{"build", "src", "builder", "--cap-drop", "NET_RAWW"}, wantErr: `unknown capability "NET_RAWW"`, code: 1},
		{name: "bad add-host", args: []string{"build", "src", "builder", "--add-host", "h:999.1.1.1"}, wantErr: "invalid --add-host", code: 1},
		{name: "bad callback", args: []string{"build", "src", "builder", "--callback-url", "ftp://u:s3cret@h/"}, wantErr: "invalid --callback-url ftp://***@h/", code: 1},
		{
			name: "pip cache bounds",
			args: []string{"build", "src", "builder", "--pip-cache-max-age", "7d"},
			env:  map[string]string{"PYS2I_PIP_CACHE_MAX_SIZE": "512M"},
			want: func(o *options.Options) { o.PipCacheMaxAge, o.PipCacheMaxSize = 7*24*time.Hour, 512<<20 },
		},
		{name: "bad pip cache age", args: []string{"build", "src", "builder", "--pip-cache-max-age", "a month"}, wantErr: `--pip-cache-max-age: invalid age "a month"`, code: 1},
		{name: "bad pip cache size in env", args: []string{"build", "src", "builder"}, env: map[string]string{"PYS2I_PIP_CACHE_MAX_SIZE": "lots"}, wantErr: `--pip-cache-max-size: invalid size "lots"`, code: 1},
		{name: "http scripts url", args: []string{"build", "src", "builder", "-s", "http://x/s"}, wantErr: "not supported", code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xdg := t.TempDir()
			t.Setenv("XDG_CONFIG_HOME", xdg)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{}, tt.args...)
			if tt.config != "" {
				p := filepath.Join(xdg, "pys2i", "config.yaml")
				for i, a := range args {
					if a == "$CFG" {
						p = filepath.Join(t.TempDir(), "custom.yaml")
						args[i] = p
					}
				}
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(tt.config), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, _, err := executeBuild(args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if c := exitcode.Of(err); c != tt.code {
					t.Errorf("exit code %d, want %d", c, tt.code)
				}
				if got != nil {
					t.Error("the build ran despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := defaults()
			tt.want(&want)
			if got == nil {
				t.Fatal("the build did not run")
			}
			if exString(got.Exclude) != exString(want.Exclude) {
				t.Errorf("Exclude = %q, want %q", exString(got.Exclude), exString(want.Exclude))
			}
			got.Exclude, want.Exclude = nil, nil
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("options\n got %+v\nwant %+v", *got, want)
			}
		})
	}
}

func exString(r *regexp.Regexp) string {
	if r == nil {
		return "<nil>"
	}
	return r.String()
}

func TestBuildWithoutImageAccess(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr}
	err := a.execute(context.Background(), []string{"build", t.TempDir(), "localhost/builder", "localhost/app"})
	if err == nil || err.Error() != "pys2i build: "+errNoImages.Error() || exitcode.Of(err) != 1 {
		t.Fatalf("error = %v (exit %d)", err, exitcode.Of(err))
	}
	// A missing source is reported as such, first.
	err = a.execute(context.Background(), []string{"build", "/nonexistent/src", "localhost/builder"})
	if err == nil || err.Error() != "pys2i build: source /nonexistent/src does not exist" {
		t.Fatalf("error = %v", err)
	}
}

type fakeInspector struct {
	img *v1.Image
	err error
	got []string
}

func (f *fakeInspector) Config(_ context.Context, ref string) (*v1.Image, string, error) {
	f.got = append(f.got, ref)
	return f.img, "sha256:abc", f.err
}

func TestAsDockerfile(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "app.py"), []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	labelled := &v1.Image{Config: v1.ImageConfig{User: "0", Labels: map[string]string{
		"io.openshift.s2i.scripts-url":   "image:///usr/local/s2i",
		"io.openshift.s2i.destination":   "/opt/in",
		"io.openshift.s2i.assemble-user": "1002",
	}}}
	tests := []struct {
		name      string
		inspector dockerfile.Inspector
		want      []string // lines of the Containerfile
		warning   string
	}{
		{
			name:      "builder labels",
			inspector: &fakeInspector{img: labelled},
			want:      []string{"COPY --chown=1002:0 upload/src /opt/in/src", "USER 1002", "RUN /usr/local/s2i/assemble", "CMD /usr/local/s2i/run"},
		},
		{
			name:      "inspection fails: the defaults, as s2i",
			inspector: &fakeInspector{err: errors.New("no such image https://u:p@registry/x")},
			want:      []string{"COPY --chown=1001:0 upload/src /tmp/src", "USER 1001", "RUN /usr/libexec/s2i/assemble", "CMD /usr/libexec/s2i/run"},
			warning:   "warning: could not inspect the builder image for labels: no such image https://***@registry/x",
		},
		{
			name:    "no image access",
			want:    []string{"COPY --chown=1001:0 upload/src /tmp/src", "RUN /usr/libexec/s2i/assemble"},
			warning: "warning: the builder's labels cannot be read (no image access)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "ctx") + "/"
			var stdout, stderr bytes.Buffer
			a := &app{stdout: &stdout, stderr: &stderr, inspector: tt.inspector}
			err := a.execute(context.Background(), []string{"build", src, "localhost/builder", "localhost/app", "--as-dockerfile", out, "-e", "TOKEN=secret"})
			if err != nil {
				t.Fatal(err)
			}
			if want := "Application dockerfile generated in " + out + "Dockerfile\n"; stdout.String() != want {
				t.Errorf("stdout = %q, want %q", stdout.String(), want)
			}
			if !strings.Contains(stderr.String(), tt.warning) || strings.Contains(stderr.String(), "secret") {
				t.Errorf("stderr = %q, want %q and no secret", stderr.String(), tt.warning)
			}
			b, err := os.ReadFile(out + "Dockerfile")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(b), "\n")
			for _, w := range tt.want {
				if !contains(lines, w) {
					t.Errorf("Containerfile lacks %q:\n%s", w, b)
				}
			}
			if f, ok := tt.inspector.(*fakeInspector); ok && !reflect.DeepEqual(f.got, []string{"localhost/builder"}) {
				t.Errorf("inspected %v", f.got)
			}
			if _, err := os.Stat(filepath.Join(out, "upload/src/app.py")); err != nil {
				t.Error(err)
			}
		})
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

func TestVersion(t *testing.T) {
	var stdout bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stdout}
	if err := a.execute(context.Background(), []string{"version"}); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "pys2i unknown\n" {
		t.Errorf("version printed %q", stdout.String())
	}
}

// executeBuild runs the command line with a build that only records its
// options: nil when the build did not run. It returns stderr too.
func executeBuild(args ...string) (*options.Options, string, error) {
	var got *options.Options
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, build: func(_ context.Context, o options.Options) error {
		got = &o
		return nil
	}}
	err := a.execute(context.Background(), args)
	return got, stderr.String(), err
}
