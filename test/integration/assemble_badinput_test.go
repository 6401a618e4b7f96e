package integration

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Bad input: each ends with a one-line summary (the last line, "ERROR: ...")
// and a non-zero exit, and no dependency fingerprint is recorded (so a
// later save-artifacts never passes the state on as complete).
func TestAssembleBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		variant string
		files   map[string]string
		setup   string // run as root in the box before assemble
		code    int
		want    []string
	}{
		{name: "missing-src", setup: "rm -rf /tmp/src", code: 1,
			want: []string{"mv: cannot stat '/tmp/src/*': No such file or directory", "ERROR: Installing application source failed: no source in /tmp/src"}},
		{name: "empty-src", setup: "rm -rf /tmp/src && mkdir /tmp/src && chown 1001:0 /tmp/src", code: 1,
			want: []string{"mv: cannot stat '/tmp/src/*'", "ERROR: Installing application source failed: the source directory /tmp/src is empty"}},
		{name: "unknown-requirement", files: map[string]string{"requirements.txt": "no-such-project-pys2i==1.0\n"}, code: 1,
			want: []string{"No matching distribution found for no-such-project-pys2i==1.0", "ERROR: Installing dependencies (requirements.txt) failed: pip install -r requirements.txt exited with status 1"}},
		{name: "requirements-syntax", files: map[string]string{"requirements.txt": "flask[unclosed==2.2.2\n"}, code: 1,
			want: []string{"ERROR: Invalid requirement", "ERROR: Installing dependencies (requirements.txt) failed: pip install -r requirements.txt exited with status 1"}},
		{name: "no-python", files: map[string]string{"requirements.txt": "six\n"},
			setup: "rm -f /opt/app-root/bin/python* /opt/app-root/bin/pip* /usr/bin/python3* /usr/bin/pip*", code: 127,
			want: []string{"pip: command not found", "ERROR: Installing dependencies (requirements.txt) failed: pip install -r requirements.txt: command not found"}},
		{name: "unwritable-home", files: map[string]string{"requirements.txt": "six\n"},
			setup: "chown root:root /opt/app-root/src && chmod 555 /opt/app-root/src", code: 1,
			want: []string{"mv: cannot move '/tmp/src/requirements.txt' to '/opt/app-root/src/requirements.txt': Permission denied", "ERROR: Installing application source failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			files := tc.files
			if files == nil {
				files = map[string]string{"app.py": ""}
			}
			b := asmNewBox(t, ctx, "minimal", files)
			if tc.setup != "" {
				s := b.spec
				s.UID, s.GID = 0, 0
				sh(t, ctx, s, tc.setup)
			}
			out, code := b.assemble()
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			asmInOrder(t, out, tc.want...)
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "ERROR: ") {
				t.Errorf("last line %q is not a summary:\n%s", last, out)
			}
			if got := b.sh(`test -e /tmp/pys2i/fingerprint.json && echo recorded || echo none`); got != "none\n" {
				t.Errorf("fingerprint recorded after a failed build")
			}
		})
	}
}
