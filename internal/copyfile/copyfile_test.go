package copyfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestCopy(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(src, link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		from     string
		noFollow bool
		wantErr  error
		created  bool
	}{
		{"a file", src, false, nil, true},
		{"a symlink followed", link, false, nil, true},
		{"a symlink refused", link, true, syscall.ELOOP, false},
		{"a missing source creates nothing", filepath.Join(dir, "missing"), false, os.ErrNotExist, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "dst")
			err := Copy(tt.from, tt.noFollow, func() (*os.File, error) {
				return os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Copy: %v, want %v", err, tt.wantErr)
			}
			data, rerr := os.ReadFile(dst)
			if (rerr == nil) != tt.created {
				t.Fatalf("destination created: %v, want %v", rerr == nil, tt.created)
			}
			if tt.created && string(data) != "hello" {
				t.Errorf("copied %q", data)
			}
		})
	}
}
