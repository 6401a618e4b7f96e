package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/options/s2iconfig"
)

func TestUseConfig(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Chdir(t.TempDir())
	saved := `{"source":"src","builderImage":"localhost/builder","tag":"localhost/app",
"flags":{"env-0":"A=1","env-1":"B=x,y","pull-policy":"never","description":"from file","run":"true","use-config":"true"}}`
	if err := os.WriteFile(".s2ifile", []byte(saved), 0o644); err != nil {
		t.Fatal(err)
	}
	run := executeBuild

	o, stderr, err := run("build", "--use-config", "-p", "always", "-e", "PIP_INDEX_URL=http://u:s3cret@index/simple", "--network", "none")
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != "src" || o.Builder != "localhost/builder" || o.Tag != "localhost/app" {
		t.Errorf("arguments from the file: %q %q %q", o.Source, o.Builder, o.Tag)
	}
	// The command line beats the file (-p, and -e replaces the saved env).
	if o.PullPolicy != images.PullAlways || o.Description != "from file" || !reflect.DeepEqual(o.Env, []string{"PIP_INDEX_URL=http://u:s3cret@index/simple"}) {
		t.Errorf("flags: pull %q, description %q, env %q", o.PullPolicy, o.Description, o.Env)
	}
	if !strings.Contains(stderr, "flag --run is not a pys2i build flag: ignored") || !strings.Contains(stderr, "--env not saved") || strings.Contains(stderr, "s3cret") {
		t.Errorf("stderr: %q", stderr)
	}
	f, _, _, err := s2iconfig.Read(".")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"pull-policy": "always", "description": "from file", "network": "none"}
	if f.Source != "src" || f.Tag != "localhost/app" || !reflect.DeepEqual(f.Flags, want) {
		t.Errorf("saved: %+v, want flags %v", f, want)
	}

	// The saved list form comes back; arguments given beat the file's.
	f.SetList("env", []string{"A=1", "B=x,y"})
	if err := s2iconfig.Write(".", f); err != nil {
		t.Fatal(err)
	}
	o, _, err = run("build", "other-src", "localhost/other", "--use-config")
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != "other-src" || o.Builder != "localhost/other" || o.Tag != "" || !reflect.DeepEqual(o.Env, []string{"A=1", "B=x,y"}) || o.Network != options.NetworkNone {
		t.Errorf("second run: %+v", o)
	}

	// No file and no arguments: a clear error.
	os.Remove(".s2ifile")
	if _, _, err := run("build", "--use-config"); err == nil || !strings.Contains(err.Error(), "no .s2ifile in this directory") {
		t.Errorf("no file: %v", err)
	}
	// A bad value in the file is reported as such.
	os.WriteFile(".s2ifile", []byte(`{"source":"s","builderImage":"b","flags":{"pull-policy":"sometimes"}}`), 0o600)
	if _, _, err := run("build", "--use-config"); err == nil || !strings.Contains(err.Error(), "invalid pull policy") {
		t.Errorf("bad value: %v", err)
	}
}
