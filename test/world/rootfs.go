package world

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// debootstrap creates a minbase root filesystem with the given packages.
// It runs in a private mount namespace so that the proc and sys mounts it
// makes inside the target vanish with it, even when it fails half-way.
func debootstrap(ctx context.Context, log io.Writer, dir, suite, mirror, cacheDir string, include []string) error {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}
	args := []string{"--mount", "--propagation", "private",
		"debootstrap", "--variant=minbase", "--cache-dir=" + cacheDir,
		"--include=" + strings.Join(include, ","), suite, dir, mirror}
	return command(ctx, log, "unshare", args...)
}

// aptInstall installs packages inside the root filesystem at dir with apt,
// chrooted, with /proc and the host's resolv.conf only for the duration.
func aptInstall(ctx context.Context, log io.Writer, dir string, pkgs []string) error {
	const script = `set -e
root=$1; shift
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"' sh "$@"
`
	args := append([]string{"--mount", "--propagation", "private", "sh", "-c", script, "sh", dir}, pkgs...)
	return command(ctx, log, "unshare", args...)
}

// generateLocales compiles the named locales ("en_US.UTF-8") into the root
// filesystem's locale archive with the locales package's locale-gen.
func generateLocales(ctx context.Context, log io.Writer, dir string, locales []string) error {
	var gen strings.Builder
	for _, l := range locales {
		name, charset, ok := strings.Cut(l, ".")
		if !ok || name == "" || charset == "" {
			return fmt.Errorf("locale %q: want NAME.CHARSET", l)
		}
		fmt.Fprintf(&gen, "%s %s\n", l, charset)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "locale.gen"), []byte(gen.String()), 0o644); err != nil {
		return err
	}
	return command(ctx, log, "chroot", dir, "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "locale-gen")
}

// cleanRootfs removes what an image should not carry: package caches and
// lists, and the build host's name and resolver (runtimes provide their own).
func cleanRootfs(dir string) error {
	globs := []string{
		"var/cache/apt/archives/*.deb", "var/cache/apt/*.bin",
		"var/lib/apt/lists/*_*", "var/log/apt/*", "var/log/dpkg.log",
		"etc/resolv.conf", "etc/hostname", "tmp/*", "var/tmp/*",
	}
	for _, g := range globs {
		matches, err := filepath.Glob(filepath.Join(dir, g))
		if err != nil {
			return err
		}
		for _, m := range matches {
			if err := os.RemoveAll(m); err != nil {
				return fmt.Errorf("clean %s: %w", m, err)
			}
		}
	}
	return nil
}

// command runs a program, streaming its output to log; on failure the error
// carries the tail of that output so the cause is visible in one line.
func command(ctx context.Context, log io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	tail := &tailBuffer{max: 2048}
	cmd.Stdout = io.MultiWriter(log, tail)
	cmd.Stderr = io.MultiWriter(log, tail)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(tail.String()))
	}
	return nil
}

type tailBuffer struct {
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if t.buf.Len() > 2*t.max {
		b := t.buf.Bytes()[t.buf.Len()-t.max:]
		t.buf = *bytes.NewBuffer(append([]byte(nil), b...))
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	b := t.buf.Bytes()
	if len(b) > t.max {
		b = b[len(b)-t.max:]
	}
	// Keep the last few lines: that is where tools put their reason.
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 6 {
		lines = lines[len(lines)-6:]
	}
	return strings.Join(lines, " | ")
}
