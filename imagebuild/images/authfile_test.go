package images

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckAuthFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, ok := range []string{
		write("docker.json", `{"auths":{"127.0.0.1:5000":{"auth":"dTpw"}},"credsStore":"x"}`),
		write("empty.json", `{}`),
	} {
		if err := CheckAuthFile(ok); err != nil {
			t.Errorf("CheckAuthFile(%s) = %v", ok, err)
		}
	}
	tests := map[string]string{
		filepath.Join(dir, "missing.json"):          "no such file",
		write("bad.json", `{"auths":"s3cret"`):      "not a JSON auth file",
		write("wrong.json", `{"auths":["s3cret"]}`): "not a JSON auth file",
	}
	for p, want := range tests {
		err := CheckAuthFile(p)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("CheckAuthFile(%s) = %v, want %q", p, err, want)
		}
	}
}
