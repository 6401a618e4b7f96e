package s2iconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestValues(t *testing.T) {
	f := File{Flags: map[string]string{
		"env-1": "B=x,y", "env-0": "A=1", "env-10": "C=3", "pull-policy": "never",
		"inject-0": "/a:/b", "incremental": "true", "x-1": "not a list",
	}}
	isList := func(n string) bool { return n == "env" || n == "inject" }
	want := map[string][]string{
		"env": {"A=1", "B=x,y", "C=3"}, "inject": {"/a:/b"}, "pull-policy": {"never"}, "incremental": {"true"}, "x-1": {"not a list"},
	}
	if got := f.Values(isList); !reflect.DeepEqual(got, want) {
		t.Errorf("Values = %v, want %v", got, want)
	}
	// s2i's old form: one comma-separated env.
	old := File{Flags: map[string]string{"env": "A=1,B=2"}}
	if got := old.Values(isList)["env"]; !reflect.DeepEqual(got, []string{"A=1", "B=2"}) {
		t.Errorf("old env = %v", got)
	}
}

func TestReadWrite(t *testing.T) {
	dir := t.TempDir()
	if _, _, found, err := Read(dir); found || err != nil {
		t.Fatalf("empty dir: found=%v %v", found, err)
	}
	// The legacy name is read when .s2ifile is missing.
	if err := os.WriteFile(filepath.Join(dir, ".stifile"), []byte(`{"source":"old","builderImage":"b"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	f, p, found, err := Read(dir)
	if err != nil || !found || f.Source != "old" || filepath.Base(p) != ".stifile" {
		t.Fatalf("legacy: %+v %s %v %v", f, p, found, err)
	}
	w := File{Source: "src", BuilderImage: "builder", Tag: "app"}
	w.Set("pull-policy", "never")
	w.SetList("env", []string{"A=1", "B=x,y"})
	if err := Write(dir, w); err != nil {
		t.Fatal(err)
	}
	got, p, found, err := Read(dir)
	if err != nil || !found || filepath.Base(p) != ".s2ifile" || !reflect.DeepEqual(got, w) {
		t.Fatalf("round trip: %+v %v; want %+v", got, err, w)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	if err := os.WriteFile(p, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := Read(dir); err == nil {
		t.Error("a broken file was read")
	}
}
