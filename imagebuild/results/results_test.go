package results

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	got, err := Parse([]string{"digest=/tekton/results/IMAGE_DIGEST", "size=/r/shp-image-size"})
	if err != nil {
		t.Fatal(err)
	}
	want := []File{{Digest, "/tekton/results/IMAGE_DIGEST"}, {Size, "/r/shp-image-size"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse = %v, want %v", got, want)
	}
	for _, bad := range []string{"digest", "digest=", "sha=/x"} {
		if _, err := Parse([]string{bad}); err == nil || !strings.Contains(err.Error(), "invalid --result") {
			t.Errorf("Parse(%q): err = %v", bad, err)
		}
	}
}

func TestWrite(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Outcome
		want map[Kind]string // absent: no file
	}{
		{
			name: "success",
			o:    Outcome{Digest: "sha256:abc", URL: "registry.example/app:1", Size: 1234},
			want: map[Kind]string{Digest: "sha256:abc", URL: "registry.example/app:1", Size: "1234"},
		},
		{
			name: "failure: no digest a pipeline could trust",
			o:    Outcome{Digest: "sha256:abc", Reason: "AssembleFailed", Message: "assemble failed with exit status 1"},
			want: map[Kind]string{ErrorReason: "AssembleFailed", ErrorMessage: "assemble failed with exit status 1"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var files []File
			for _, k := range kinds {
				files = append(files, File{k, filepath.Join(dir, string(k))})
			}
			if err := Write(files, tt.o); err != nil {
				t.Fatal(err)
			}
			for _, k := range kinds {
				b, err := os.ReadFile(filepath.Join(dir, string(k)))
				want, ok := tt.want[k]
				switch {
				case !ok && err == nil:
					t.Errorf("%s written: %q", k, b)
				case ok && (err != nil || string(b) != want):
					t.Errorf("%s = %q (%v), want %q", k, b, err, want)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) > 0 {
				t.Errorf("temp files left: %v", left)
			}
		})
	}
}
