package imagebuild

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/imagebuild/runtimeimage/elfdeps"
)

// The error names each missing thing, what needs it and the builder's
// package, and ends with one apt-get line; without dpkg, where the builder
// has the library; a library the builder lacks too is said so.
func TestCannotRunMessage(t *testing.T) {
	builder := t.TempDir()
	for p, body := range map[string]string{
		"etc/ld.so.conf": "/usr/lib/x86_64-linux-gnu\n",
		"var/lib/dpkg/info/libpython3.11:amd64.list":    "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0\n",
		"var/lib/dpkg/info/apache2-bin.list":            "/usr/sbin/apache2\n",
		"usr/sbin/apache2":                              "",
		"usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0": "",
	} {
		full := filepath.Join(builder, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Locate needs a real ELF file of the right class for a library.
	data, err := os.ReadFile("/usr/lib/x86_64-linux-gnu/libz.so.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(builder, "usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	rt := &runtimeImage{name: "localhost/rt"}
	probs := []elfdeps.Problem{
		{Missing: "/usr/sbin/apache2", NeededBy: "/opt/app-root/x/apxs_config.py", Role: elfdeps.RoleHTTPD, Detail: "HTTPD"},
		{Missing: "libnowhere.so.1", Library: true, NeededBy: "/opt/app-root/ext.so"},
		{Missing: "libpython3.11.so.1.0", Library: true, NeededBy: "/opt/app-root/mod.so"},
	}
	got := rt.cannotRun(probs, elfdeps.Dir(builder), "localhost/full").Error()
	want := `the runtime image localhost/rt cannot run the build's artifacts:
  runtime image lacks /usr/sbin/apache2, the web server that mod_wsgi-express starts, named in /opt/app-root/x/apxs_config.py (HTTPD): install apache2-bin (the builder's package with /usr/sbin/apache2)
  runtime image lacks libnowhere.so.1 needed by /opt/app-root/ext.so (the builder localhost/full has no such library either)
  runtime image lacks libpython3.11.so.1.0 needed by /opt/app-root/mod.so: install libpython3.11 (the builder's package with /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0)
add them to the runtime image (a Containerfile FROM it with RUN apt-get install -y apache2-bin libpython3.11), or use another --runtime-image`
	if got != want {
		t.Errorf("message:\n%s\nwant:\n%s", got, want)
	}
	// No dpkg database: the library's place in the builder.
	if err := os.RemoveAll(filepath.Join(builder, "var")); err != nil {
		t.Fatal(err)
	}
	got = rt.cannotRun(probs[2:], elfdeps.Dir(builder), "localhost/full").Error()
	if !strings.Contains(got, "lacks libpython3.11.so.1.0 needed by /opt/app-root/mod.so: the builder has it at /usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0\nadd what is missing") {
		t.Errorf("without dpkg:\n%s", got)
	}
}
