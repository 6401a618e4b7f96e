package runtime

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSetupUser(t *testing.T) {
	const (
		passwd     = "root:x:0:0:root:/root:/bin/bash\ndefault:x:1001:0:Default:/opt/app-root/src:/sbin/nologin\n"
		noDefault  = "root:x:0:0:root:/root:/bin/bash\n"
		lib        = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"
		entry12345 = "default:x:12345:0:Default Application User:/opt/app-root/src:/bin/bash\n"
	)
	env := []string{"HOME=/opt/app-root/src", "APP_ROOT=/opt/app-root", "PATH=/bin"}
	nssEnv := append(append([]string(nil), env...), "NSS_WRAPPER_PASSWD=/opt/app-root/etc/passwd", "NSS_WRAPPER_GROUP=/etc/group", "LD_PRELOAD="+lib)
	tests := []struct {
		name        string
		uid         int
		passwd      string // "" = no /etc/passwd
		lib         bool
		appRootFile bool // /opt/app-root/etc is a file: the nss_wrapper passwd cannot be written
		how         string
		env         []string
		nssPasswd   string // expected $APP_ROOT/etc/passwd ("" = none written)
		etcPasswd   string // expected /etc/passwd afterwards
		warn        string
	}{
		{name: "root", uid: 0, passwd: noDefault, lib: true, env: env, etcPasswd: noDefault},
		{name: "1001 known", uid: 1001, passwd: passwd, lib: true, env: env, etcPasswd: passwd},
		{name: "random uid with nss_wrapper", uid: 12345, passwd: passwd, lib: true, how: "nss_wrapper", env: nssEnv,
			nssPasswd: "root:x:0:0:root:/root:/bin/bash\nbuilder:x:1001:0:Default:/opt/app-root/src:/sbin/nologin\n" + entry12345, etcPasswd: passwd},
		{name: "1001 unknown gets one too", uid: 1001, passwd: noDefault, lib: true, how: "nss_wrapper", env: nssEnv,
			nssPasswd: noDefault + "default:x:1001:0:Default Application User:/opt/app-root/src:/bin/bash\n", etcPasswd: noDefault},
		{name: "no nss_wrapper: append to /etc/passwd", uid: 12345, passwd: passwd, how: "passwd", env: env, etcPasswd: passwd + entry12345},
		{name: "no nss_wrapper, no newline at the end", uid: 12345, passwd: strings.TrimSuffix(noDefault, "\n"), how: "passwd", env: env, etcPasswd: noDefault + entry12345},
		{name: "no nss_wrapper, already there", uid: 12345, passwd: passwd + entry12345, env: env, etcPasswd: passwd + entry12345},
		{name: "nss_wrapper passwd not writable: append", uid: 12345, passwd: passwd, lib: true, appRootFile: true, how: "passwd", env: env, etcPasswd: passwd + entry12345},
		{name: "nothing possible", uid: 12345, env: env, warn: "WARNING: uid 12345 has no user name (libnss_wrapper.so not found; open "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			os.MkdirAll(filepath.Join(root, "etc"), 0o755)
			os.MkdirAll(filepath.Join(root, "opt/app-root"), 0o755)
			if tt.passwd != "" {
				os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(tt.passwd), 0o664)
			}
			if tt.lib {
				os.MkdirAll(filepath.Join(root, filepath.Dir(lib)), 0o755)
				os.WriteFile(filepath.Join(root, lib), nil, 0o644)
			}
			if tt.appRootFile {
				os.WriteFile(filepath.Join(root, "opt/app-root/etc"), nil, 0o644)
			}
			got := SetupUser(root, tt.uid, 0, env)
			if got.How != tt.how || !reflect.DeepEqual(got.Env, tt.env) {
				t.Errorf("how %q env %q, want %q %q", got.How, got.Env, tt.how, tt.env)
			}
			if !strings.HasPrefix(got.Warning, tt.warn) || (tt.warn == "") != (got.Warning == "") {
				t.Errorf("warning %q, want prefix %q", got.Warning, tt.warn)
			}
			b, err := os.ReadFile(filepath.Join(root, "opt/app-root/etc/passwd"))
			if string(b) != tt.nssPasswd || (tt.nssPasswd != "") != (err == nil) {
				t.Errorf("$APP_ROOT/etc/passwd = %q, want %q", b, tt.nssPasswd)
			}
			b, _ = os.ReadFile(filepath.Join(root, "etc/passwd"))
			if string(b) != tt.etcPasswd {
				t.Errorf("/etc/passwd = %q, want %q", b, tt.etcPasswd)
			}
		})
	}
}

// The passwd file and its directory stay group-writable whatever the umask,
// and a file left by another uid is replaced: the next start may run as
// another uid of group 0.
func TestSetupUserGroupWritable(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.MkdirAll(filepath.Join(root, "opt/app-root"), 0o775)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644)
	lib := filepath.Join(root, "usr/lib64/libnss_wrapper.so")
	os.MkdirAll(filepath.Dir(lib), 0o755)
	os.WriteFile(lib, nil, 0o644)
	env := []string{"HOME=/h", "APP_ROOT=/opt/app-root"}
	for _, uid := range []int{2000, 3000} {
		if got := SetupUser(root, uid, 0, env); got.How != "nss_wrapper" {
			t.Fatalf("uid %d: %+v", uid, got)
		}
	}
	for p, want := range map[string]os.FileMode{"opt/app-root/etc": 0o775, "opt/app-root/etc/passwd": 0o664} {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v %v, want %v", p, fi.Mode().Perm(), err, want)
		}
	}
	b, _ := os.ReadFile(filepath.Join(root, "opt/app-root/etc/passwd"))
	if !strings.HasSuffix(string(b), "default:x:3000:0:Default Application User:/h:/bin/bash\n") || strings.Contains(string(b), ":2000:") {
		t.Errorf("passwd %q", b)
	}
}
