package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/imagebuild/sandbox"
)

// fix-permissions as installed in the builder image (/usr/bin/fix-permissions),
// run as 1001:0 and as root on the same tree as the upstream find-based
// script: identical results; a missing path prints the upstream error and
// exits 0.
func TestFixPermsInImage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b := asmNewBox(t, ctx, "minimal", nil)
	script, err := filepath.Abs("../../fixperms/testdata/fix-permissions.sh")
	if err != nil {
		t.Fatal(err)
	}
	root := b.spec
	root.UID, root.GID = 0, 0
	root.Mounts = append(append([]sandbox.Mount(nil), root.Mounts...), sandbox.Mount{Source: script, Target: "/usr/local/bin/upstream-fix-permissions", ReadOnly: true})
	user := b.spec
	user.Mounts = root.Mounts
	const mk = `for d in /srv/port /srv/up; do
  mkdir -p $d/venv/bin $d/venv/lib/x $d/rootdir
  echo x > $d/venv/lib/x/mod.py; chmod 644 $d/venv/lib/x/mod.py
  echo x > $d/venv/bin/tool; chmod 755 $d/venv/bin/tool
  echo x > $d/venv/private; chmod 600 $d/venv/private
  ln -s tool $d/venv/bin/link
  chmod 755 $d/venv $d/venv/bin; chmod 700 $d/venv/lib
  chown -R 1001:100 $d/venv; chown -h 1001:0 $d/venv/bin/link
  echo r > $d/rootdir/f; chmod 640 $d/rootdir/f; chgrp -R 100 $d/rootdir
  chown 1001:0 $d
done`
	sh(t, ctx, root, mk)
	for _, as := range []struct {
		name string
		spec sandbox.Spec
	}{{"user", user}, {"root", root}} {
		out := sh(t, ctx, as.spec, `fix-permissions /srv/port -P 2>&1; echo "exit $?"; /bin/sh /usr/local/bin/upstream-fix-permissions /srv/up -P >/dev/null 2>&1; echo "upstream exit $?"`)
		if out != "exit 0\nupstream exit 0\n" {
			t.Errorf("%s: %q", as.name, out)
		}
		port := sh(t, ctx, root, `cd /srv/port && find . -printf '%p %u:%g %m\n' | sort`)
		up := sh(t, ctx, root, `cd /srv/up && find . -printf '%p %u:%g %m\n' | sort`)
		if port != up {
			t.Errorf("as %s, port:\n%s\nupstream:\n%s", as.name, port, up)
		}
		if as.name == "user" {
			if want := "./rootdir/f root:users 640\n"; !strings.Contains(port, want) {
				t.Errorf("root's file touched by 1001:\n%s", port)
			}
		}
	}
	out := sh(t, ctx, user, `fix-permissions /nonexistent -P 2>&1; echo "exit $?"`)
	if out != "ERROR: File or directory /nonexistent does not exist.\nexit 0\n" {
		t.Errorf("missing path: %q", out)
	}
}
