package runtime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
)

// UserSetup is the result of SetupUser.
type UserSetup struct {
	// Env is the environment to continue with (the input plus, in the
	// nss_wrapper case, NSS_WRAPPER_PASSWD, NSS_WRAPPER_GROUP and LD_PRELOAD).
	Env []string
	// How says what was done: "" (nothing needed), "nss_wrapper" or "passwd".
	How string
	// Warning, when set, is why the user could not be given a name.
	Warning string
}

// nssWrapperDirs are where libnss_wrapper.so is looked for, in order.
var nssWrapperDirs = []string{
	"/usr/lib64", "/lib64", "/usr/lib", "/lib",
	"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib/powerpc64le-linux-gnu", "/usr/lib/s390x-linux-gnu",
}

// SetupUser is upstream's generate_container_user for an arbitrary uid (as
// OpenShift assigns): when uid is neither 0 nor 1001, it writes
// $APP_ROOT/etc/passwd (a copy of /etc/passwd with "default" renamed to
// "builder", plus "default:x:UID:GID:Default Application User:$HOME:/bin/bash")
// and points nss_wrapper at it (NSS_WRAPPER_PASSWD, NSS_WRAPPER_GROUP=/etc/group,
// LD_PRELOAD), where libnss_wrapper.so exists in the image. Where it does
// not (or $APP_ROOT/etc is not writable) and /etc/passwd is writable, it
// appends that entry to /etc/passwd instead, unless the uid already has one.
// Either way programs in the app (whoami, getpwuid) find the user. Unlike
// upstream it also helps uid 1001 when /etc/passwd has no entry for it.
// Root is the file system root ("/" in a container).
func SetupUser(root string, uid, gid int, env []string) UserSetup {
	res := UserSetup{Env: env}
	passwdPath := filepath.Join(root, "etc/passwd")
	passwd, err := os.ReadFile(passwdPath)
	if err != nil {
		passwd = nil
	}
	if uid == 0 || uid == 1001 && hasUID(passwd, uid) {
		return res
	}
	get := func(k string) string { return envlist.Get(env, k) }
	home, appRoot := get("HOME"), get("APP_ROOT")
	if appRoot == "" {
		appRoot = contract.DefaultAppRoot
	}
	entry := fmt.Sprintf("default:x:%d:%d:Default Application User:%s:/bin/bash\n", uid, gid, home)

	var why []string
	if lib := findNSSWrapper(root); lib != "" {
		var b bytes.Buffer
		sc := bufio.NewScanner(bytes.NewReader(passwd))
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "default:"); ok {
				line = "builder:" + rest
			}
			b.WriteString(line + "\n")
		}
		b.WriteString(entry)
		etc := filepath.Join(appRoot, "etc")
		out := filepath.Join(etc, "passwd")
		err := writeGroupFile(filepath.Join(root, etc), filepath.Join(root, out), b.Bytes())
		if err == nil {
			preload := lib
			if old := get("LD_PRELOAD"); old != "" {
				preload += " " + old
			}
			res.Env = envlist.Set(envlist.Set(envlist.Set(env, "NSS_WRAPPER_PASSWD", out), "NSS_WRAPPER_GROUP", "/etc/group"), "LD_PRELOAD", preload)
			res.How = "nss_wrapper"
			return res
		}
		why = append(why, err.Error())
	} else {
		why = append(why, "libnss_wrapper.so not found")
	}

	if hasUID(passwd, uid) {
		return res
	}
	f, err := os.OpenFile(passwdPath, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		if len(passwd) > 0 && passwd[len(passwd)-1] != '\n' {
			entry = "\n" + entry
		}
		_, err = f.WriteString(entry)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		res.How = "passwd"
		return res
	}
	why = append(why, err.Error())
	res.Warning = fmt.Sprintf("WARNING: uid %d has no user name (%s).", uid, strings.Join(why, "; "))
	return res
}

func findNSSWrapper(root string) string {
	for _, d := range nssWrapperDirs {
		p := filepath.Join(d, "libnss_wrapper.so")
		if fi, err := os.Stat(filepath.Join(root, p)); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// hasUID reports whether a passwd file has an entry for uid.
func hasUID(passwd []byte, uid int) bool {
	want := strconv.Itoa(uid)
	sc := bufio.NewScanner(bytes.NewReader(passwd))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) >= 3 && f[2] == want {
			return true
		}
	}
	return false
}

// writeGroupFile writes data to path, creating its directory, and leaves
// both writable by the group (the next start may run as another uid of
// group 0, issue #298). A file another uid left behind is replaced when the
// directory allows it.
func writeGroupFile(dir, path string, data []byte) error {
	if _, err := os.Stat(dir); err != nil {
		if err := os.MkdirAll(dir, 0o775); err != nil {
			return err
		}
		_ = os.Chmod(dir, 0o775) // umask
	}
	err := os.WriteFile(path, data, 0o664)
	if errors.Is(err, fs.ErrPermission) {
		if os.Remove(path) == nil {
			err = os.WriteFile(path, data, 0o664)
		}
	}
	if err == nil {
		_ = os.Chmod(path, 0o664) // umask; fails harmlessly on another uid's file
	}
	return err
}
