package elfdeps

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The host's real ELF files (Debian 12, x86_64): python3.11 needs libm,
// libz, libexpat and libc; patchelf (make deps) makes variants with
// RUNPATH/RPATH and extra DT_NEEDED entries.
const multiarch = "/usr/lib/x86_64-linux-gnu"

var hostLibs = []string{"libc.so.6", "libm.so.6", "libz.so.1", "libexpat.so.1"}

// fakeRoot builds a small image: the loader, the libraries not in drop,
// and ld.so.conf pointing at the multiarch directory.
func fakeRoot(t *testing.T, drop ...string) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, "/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n")
	write(t, root, "/etc/ld.so.conf.d/x86_64-linux-gnu.conf", "# Multiarch support\n"+multiarch+"\n")
	copyHost(t, "/lib64/ld-linux-x86-64.so.2", root, "/usr/lib64/ld-linux-x86-64.so.2")
	link(t, root, "/lib64", "usr/lib64")
	for _, l := range hostLibs {
		if !contains(drop, l) {
			copyHost(t, filepath.Join(multiarch, l), root, filepath.Join(multiarch, l))
		}
	}
	return root
}

func write(t *testing.T, root, p, body string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyHost(t *testing.T, src, root, p string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatalf("host file: %v", err)
	}
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, root, p, target string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, full); err != nil {
		t.Fatal(err)
	}
}

func patchelf(t *testing.T, file string, args ...string) {
	t.Helper()
	out, err := exec.Command("patchelf", append(args, file)...).CombinedOutput()
	if err != nil {
		t.Fatalf("patchelf %v (make deps installs it): %v %s", args, err, out)
	}
}

// venv lays a venv at /opt/app-root in art whose python points at
// /usr/bin/python3 in the image.
func venv(t *testing.T, art string) {
	write(t, art, "/pyvenv.cfg", "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\nexecutable = /usr/bin/python3.11\n")
	link(t, art, "/bin/python", "python3")
	link(t, art, "/bin/python3", "/usr/bin/python3")
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		// image builds the runtime image root; art the artifacts (mounted at /opt/app-root).
		image func(t *testing.T) string
		art   func(t *testing.T, art string)
		want  []string
	}{
		{
			name: "venv and interpreter present",
			image: func(t *testing.T) string {
				r := fakeRoot(t)
				copyHost(t, "/usr/bin/python3.11", r, "/usr/bin/python3.11")
				link(t, r, "/usr/bin/python3", "python3.11")
				return r
			},
			art: venv,
		},
		{
			name:  "no interpreter",
			image: func(t *testing.T) string { return fakeRoot(t) },
			art:   venv,
			want: []string{
				"lacks /usr/bin, the Python interpreter of /opt/app-root/pyvenv.cfg (pyvenv.cfg home, a directory)",
				"lacks /usr/bin/python3, the Python interpreter of /opt/app-root/bin/python",
				"lacks /usr/bin/python3, the Python interpreter of /opt/app-root/bin/python3",
				"lacks /usr/bin/python3.11, the Python interpreter of /opt/app-root/pyvenv.cfg (pyvenv.cfg executable)",
			},
		},
		{
			name: "interpreter's library missing",
			image: func(t *testing.T) string {
				r := fakeRoot(t, "libexpat.so.1")
				copyHost(t, "/usr/bin/python3.11", r, "/usr/bin/python3.11")
				link(t, r, "/usr/bin/python3", "python3.11")
				return r
			},
			art:  venv,
			want: []string{"lacks libexpat.so.1 needed by /usr/bin/python3.11"},
		},
		{
			name:  "extension needs a library the image lacks",
			image: func(t *testing.T) string { return fakeRoot(t, "libexpat.so.1") },
			art: func(t *testing.T, art string) {
				so := filepath.Join(art, "lib/python3.11/site-packages/ext.so")
				copyHost(t, filepath.Join(multiarch, "libz.so.1"), art, "/lib/python3.11/site-packages/ext.so")
				patchelf(t, so, "--add-needed", "libexpat.so.1")
			},
			want: []string{"lacks libexpat.so.1 needed by /opt/app-root/lib/python3.11/site-packages/ext.so"},
		},
		{
			name:  "library shipped in the artifacts, found by RUNPATH $ORIGIN",
			image: func(t *testing.T) string { return fakeRoot(t, "libexpat.so.1") },
			art: func(t *testing.T, art string) {
				copyHost(t, filepath.Join(multiarch, "libexpat.so.1"), art, "/lib/site-packages/pkg.libs/libexpat-abc.so.1")
				patchelf(t, filepath.Join(art, "lib/site-packages/pkg.libs/libexpat-abc.so.1"), "--set-soname", "libexpat-abc.so.1")
				so := filepath.Join(art, "lib/site-packages/pkg/ext.so")
				copyHost(t, filepath.Join(multiarch, "libz.so.1"), art, "/lib/site-packages/pkg/ext.so")
				patchelf(t, so, "--add-needed", "libexpat-abc.so.1")
				patchelf(t, so, "--set-rpath", "$ORIGIN/../pkg.libs")
			},
		},
		{
			name:  "DT_RPATH with $ORIGIN, and a shipped library that needs a missing one",
			image: func(t *testing.T) string { return fakeRoot(t, "libexpat.so.1") },
			art: func(t *testing.T, art string) {
				bundled := filepath.Join(art, "libs/libbundled.so.1")
				copyHost(t, filepath.Join(multiarch, "libz.so.1"), art, "/libs/libbundled.so.1")
				patchelf(t, bundled, "--set-soname", "libbundled.so.1")
				patchelf(t, bundled, "--add-needed", "libexpat.so.1")
				so := filepath.Join(art, "bin/tool")
				copyHost(t, filepath.Join(multiarch, "libz.so.1"), art, "/bin/tool")
				patchelf(t, so, "--add-needed", "libbundled.so.1")
				patchelf(t, so, "--force-rpath", "--set-rpath", "${ORIGIN}/../libs")
			},
			want: []string{"lacks libexpat.so.1 needed by /opt/app-root/libs/libbundled.so.1"},
		},
		{
			name: "library only in a directory the loader does not search",
			image: func(t *testing.T) string {
				r := fakeRoot(t)
				copyHost(t, filepath.Join(multiarch, "libz.so.1"), r, "/srv/libfoo.so.9")
				return r
			},
			art: func(t *testing.T, art string) {
				copyHost(t, filepath.Join(multiarch, "libz.so.1"), art, "/ext.so")
				patchelf(t, filepath.Join(art, "ext.so"), "--add-needed", "libfoo.so.9")
			},
			want: []string{"lacks libfoo.so.9 needed by /opt/app-root/ext.so"},
		},
		{
			name: "symlinked library in the image, via /lib -> usr/lib",
			image: func(t *testing.T) string {
				r := fakeRoot(t)
				copyHost(t, filepath.Join(multiarch, "libz.so.1"), r, "/usr/lib/libfoo.so.9.1")
				link(t, r, "/usr/lib/libfoo.so.9", "libfoo.so.9.1")
				link(t, r, "/lib", "usr/lib")
				return r
			},
			art: func(t *testing.T, art string) {
				copyHost(t, filepath.Join(multiarch, "libz.so.1"), art, "/ext.so")
				patchelf(t, filepath.Join(art, "ext.so"), "--add-needed", "libfoo.so.9")
			},
		},
		{
			name:  "mod_wsgi's Apache binary missing",
			image: func(t *testing.T) string { return fakeRoot(t) },
			art: func(t *testing.T, art string) {
				write(t, art, "/lib/python3.11/site-packages/mod_wsgi/server/apxs_config.py", apxsConfig)
			},
			want: []string{
				"lacks /usr/lib/apache2/modules, the Apache modules directory that mod_wsgi-express loads from, named in /opt/app-root/lib/python3.11/site-packages/mod_wsgi/server/apxs_config.py (LIBEXECDIR)",
				"lacks /usr/sbin/apache2, the web server that mod_wsgi-express starts, named in /opt/app-root/lib/python3.11/site-packages/mod_wsgi/server/apxs_config.py (HTTPD)",
			},
		},
		{
			name:  "mod_wsgi 6's Apache binary missing",
			image: func(t *testing.T) string { return fakeRoot(t) },
			art: func(t *testing.T, art string) {
				write(t, art, "/lib/python3.11/site-packages/mod_wsgi/express/apxs_config.py", apxsConfig)
			},
			want: []string{
				"lacks /usr/lib/apache2/modules, the Apache modules directory that mod_wsgi-express loads from, named in /opt/app-root/lib/python3.11/site-packages/mod_wsgi/express/apxs_config.py (LIBEXECDIR)",
				"lacks /usr/sbin/apache2, the web server that mod_wsgi-express starts, named in /opt/app-root/lib/python3.11/site-packages/mod_wsgi/express/apxs_config.py (HTTPD)",
			},
		},
		{
			name:  "mod_wsgi with its own server package",
			image: func(t *testing.T) string { return fakeRoot(t) },
			art: func(t *testing.T, art string) {
				write(t, art, "/lib/python3.11/site-packages/mod_wsgi/server/apxs_config.py", strings.Replace(apxsConfig, "= False", "= True", 1))
			},
		},
		{
			name: "mod_wsgi's Apache binary present, its library missing",
			image: func(t *testing.T) string {
				r := fakeRoot(t, "libexpat.so.1")
				copyHost(t, "/usr/bin/python3.11", r, "/usr/bin/apache2") // an ELF file that needs libexpat, in BINDIR
				write(t, r, "/usr/lib/apache2/modules/mod_mpm_event.so", "")
				return r
			},
			art: func(t *testing.T, art string) {
				write(t, art, "/lib/python3.11/site-packages/mod_wsgi/server/apxs_config.py", apxsConfig)
			},
			want: []string{"lacks libexpat.so.1 needed by /usr/bin/apache2"},
		},
		{
			name: "an executable's loader missing",
			image: func(t *testing.T) string {
				r := fakeRoot(t)
				os.Remove(filepath.Join(r, "usr/lib64/ld-linux-x86-64.so.2"))
				return r
			},
			art: func(t *testing.T, art string) {
				copyHost(t, "/usr/bin/python3.11", art, "/bin/tool")
			},
			want: []string{
				"lacks /lib64/ld-linux-x86-64.so.2, the dynamic loader (ELF interpreter) of /opt/app-root/bin/tool",
				"lacks /lib64/ld-linux-x86-64.so.2, the dynamic loader (ELF interpreter) of /usr/lib/x86_64-linux-gnu/libc.so.6",
				"lacks ld-linux-x86-64.so.2 needed by /usr/lib/x86_64-linux-gnu/libc.so.6",
				"lacks ld-linux-x86-64.so.2 needed by /usr/lib/x86_64-linux-gnu/libm.so.6",
			},
		},
		{
			name:  "text files and a symlink out of the artifacts are not followed",
			image: func(t *testing.T) string { return fakeRoot(t) },
			art: func(t *testing.T, art string) {
				write(t, art, "/README", strings.Repeat("not an ELF file. ", 10))
				link(t, art, "/escape", "/../../../../usr/bin/python3.11")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.image(t)
			art := t.TempDir()
			tc.art(t, art)
			view := Overlay{Lower: Dir(img), Mounts: []Mount{{At: "/opt/app-root", Root: Dir(art)}}}
			probs, err := Check(view, []string{"/opt/app-root"}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestResolve(t *testing.T) {
	root := t.TempDir()
	write(t, root, "/usr/lib/x/libz.so.1.2", "z")
	link(t, root, "/lib", "usr/lib")
	link(t, root, "/usr/lib/x/libz.so.1", "libz.so.1.2")
	link(t, root, "/up", "../../../../usr")
	link(t, root, "/loop", "loop")
	link(t, root, "/dangling", "/nowhere/file")
	for _, tc := range []struct {
		in, want string
		ok       bool
		err      bool
	}{
		{"/lib/x/libz.so.1", "/usr/lib/x/libz.so.1.2", true, false},
		{"/up/lib/x/libz.so.1", "/usr/lib/x/libz.so.1.2", true, false}, // .. stops at the root
		{"/dangling", "/nowhere/file", false, false},
		{"/usr/lib/x/libz.so.1.2/sub", "/usr/lib/x/libz.so.1.2/sub", false, false},
		{"/loop", "", false, true},
	} {
		got, ok, err := Resolve(Dir(root), tc.in)
		if (err != nil) != tc.err || got != tc.want || ok != tc.ok {
			t.Errorf("Resolve(%s) = %q %v %v, want %q %v err=%v", tc.in, got, ok, err, tc.want, tc.ok, tc.err)
		}
	}
}

func TestDpkgOwnerAndLocate(t *testing.T) {
	root := fakeRoot(t)
	copyHost(t, filepath.Join(multiarch, "libz.so.1"), root, "/usr/lib/x86_64-linux-gnu/libapr-1.so.0")
	write(t, root, "/var/lib/dpkg/info/libapr1:amd64.list", "/.\n/usr\n/usr/lib/x86_64-linux-gnu/libapr-1.so.0\n")
	write(t, root, "/var/lib/dpkg/info/zlib1g:amd64.list", "/lib/x86_64-linux-gnu/libz.so.1\n")
	write(t, root, "/var/lib/dpkg/info/libapr1:amd64.md5sums", "x  /usr/lib/x86_64-linux-gnu/libz.so.1\n")
	for _, tc := range []struct{ lib, where, pkg string }{
		{"libapr-1.so.0", multiarch + "/libapr-1.so.0", "libapr1"},
		{"libz.so.1", multiarch + "/libz.so.1", "zlib1g"}, // listed under /lib (usrmerge)
		{"libnone.so", "", ""},
	} {
		where, err := Locate(Dir(root), tc.lib, Options{})
		if err != nil || where != tc.where {
			t.Errorf("Locate(%s) = %q %v, want %q", tc.lib, where, err, tc.where)
		}
		if where == "" {
			continue
		}
		pkg, err := DpkgOwner(Dir(root), where)
		if err != nil || pkg != tc.pkg {
			t.Errorf("DpkgOwner(%s) = %q %v, want %q", where, pkg, err, tc.pkg)
		}
	}
	if pkg, err := DpkgOwner(Dir(t.TempDir()), "/usr/lib/libx.so"); pkg != "" || err != nil {
		t.Errorf("no dpkg database: %q %v", pkg, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// apxsConfig is mod_wsgi 5.0.2's generated apxs_config.py on Debian 12.
const apxsConfig = `
import os
import posixpath

WITH_HTTPD_PACKAGE = False

if WITH_HTTPD_PACKAGE:
    from mod_wsgi_packages.httpd import __file__ as PACKAGES_ROOTDIR
    PACKAGES_ROOTDIR = posixpath.dirname(PACKAGES_ROOTDIR)
    BINDIR = posixpath.join(PACKAGES_ROOTDIR, 'bin')
    SBINDIR = BINDIR
    LIBEXECDIR = posixpath.join(PACKAGES_ROOTDIR, 'modules')
    SHLIBPATH = posixpath.join(PACKAGES_ROOTDIR, 'lib')
else:
    BINDIR = '/usr/bin'
    SBINDIR = '/usr/sbin'
    LIBEXECDIR = '/usr/lib/apache2/modules'
    SHLIBPATH = ''

MPM_NAME = ''
PROGNAME = 'apache2'
SHLIBPATH_VAR = 'LD_LIBRARY_PATH'

if os.path.exists(posixpath.join(SBINDIR, PROGNAME)):
    HTTPD = posixpath.join(SBINDIR, PROGNAME)
elif os.path.exists(posixpath.join(BINDIR, PROGNAME)):
    HTTPD = posixpath.join(BINDIR, PROGNAME)
else:
    HTTPD = PROGNAME
`
