package pyindex

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

const archiveKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

// apt runs apt-get with its own configuration and state under dir, so that
// neither the host's sources, preferences, apt.conf.d nor dpkg status play a
// part: only Options.Mirror and Options.Suite do.
type apt struct {
	dir  string // WorkDir/apt
	conf string // APT_CONFIG file
}

func newApt(dir, mirror, suite string) (*apt, error) {
	a := &apt{dir: dir, conf: filepath.Join(dir, "apt.conf")}
	for _, d := range []string{"conf.d", "state/lists/partial", "cache/archives/partial"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	sources := fmt.Sprintf("deb [signed-by=%s] %s %s main\n", archiveKeyring, strings.TrimRight(mirror, "/"), suite)
	if err := os.WriteFile(filepath.Join(dir, "sources.list"), []byte(sources), 0o644); err != nil {
		return nil, err
	}
	status := filepath.Join(dir, "status")
	if err := os.WriteFile(status, nil, 0o644); err != nil {
		return nil, err
	}
	q := func(s string) string { return `"` + s + `"` }
	conf := strings.Join([]string{
		// Read no host configuration: APT_CONFIG is read first, then
		// Dir::Etc::Parts and Dir::Etc::Main, which point to nothing.
		"Dir::Etc::Parts " + q(filepath.Join(dir, "conf.d")) + ";",
		`Dir::Etc::Main "/dev/null";`,
		"Dir::Etc::SourceList " + q(filepath.Join(dir, "sources.list")) + ";",
		`Dir::Etc::SourceParts "/dev/null";`,
		`Dir::Etc::Preferences "/dev/null";`,
		`Dir::Etc::PreferencesParts "/dev/null";`,
		"Dir::State " + q(filepath.Join(dir, "state")) + ";",
		"Dir::State::status " + q(status) + ";",
		"Dir::Cache " + q(filepath.Join(dir, "cache")) + ";",
		`Debug::NoLocking "1";`,
		`APT::Architecture "amd64";`,
		`APT::Architectures { "amd64"; };`,
		`Acquire::Languages "none";`,
		// Mirrors may be snapshots whose Release files are past Valid-Until.
		`Acquire::Check-Valid-Until "false";`,
		`APT::Sandbox::User "root";`,
		`APT::Update::Error-Mode "any";`,
		"",
	}, "\n")
	if err := os.WriteFile(a.conf, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *apt) run(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "apt-get", append([]string{"-q"}, args...)...)
	cmd.Dir = dir
	env := []string{"APT_CONFIG=" + a.conf, "LC_ALL=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "APT_CONFIG", "LC_ALL", "LANG", "LANGUAGE", "DEBIAN_FRONTEND":
		default:
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err := cmd.Run()
	if err != nil {
		msg := errb.String()
		if strings.TrimSpace(msg) == "" {
			msg = out.String()
		}
		return msg, fmt.Errorf("apt-get %s: %v: %s", args[0], err, strings.TrimSpace(lastLines(msg, 15)))
	}
	return out.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (a *apt) update(ctx context.Context) error {
	_, err := a.run(ctx, a.dir, "update")
	return err
}

var (
	printURIRe = regexp.MustCompile(`^'([^']+)' (\S+) (\d+) SHA256:([0-9a-f]{64})$`)
	aptNameErr = []*regexp.Regexp{
		regexp.MustCompile(`Unable to locate package (\S+)`),
		regexp.MustCompile(`Package '?([^' ]+)'? has no installation candidate`),
		regexp.MustCompile(`Can't select candidate version from package (\S+)`),
		regexp.MustCompile(`Can't select version .* for package (\S+)`),
	}
)

type debFile struct {
	url, file, sha256 string
}

// download fetches the candidate versions of pkgs into dir (already present
// files with the right hash are kept) and returns package -> .deb path.
// Errors name the packages: "download python3-nosuch: E: Unable to locate...".
func (a *apt) download(ctx context.Context, dir string, pkgs []string) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// --print-uris omits packages already in the current directory: ask
	// from an empty one.
	empty, err := os.MkdirTemp(a.dir, "print-uris-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(empty)
	out, err := a.run(ctx, empty, append([]string{"download", "--print-uris"}, pkgs...)...)
	if err != nil {
		return nil, nameDownloadError(pkgs, out, err)
	}
	files := map[string]debFile{}
	for _, line := range strings.Split(out, "\n") {
		m := printURIRe.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		pkg, _, _ := strings.Cut(m[2], "_")
		files[pkg] = debFile{url: m[1], file: m[2], sha256: m[4]}
	}
	var missing []string
	for _, p := range pkgs {
		if _, ok := files[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("download %s: apt-get download --print-uris gave no URI (virtual package?)", strings.Join(missing, " "))
	}
	// apt-get download skips files that are present with the right hash.
	if out, err := a.run(ctx, dir, append([]string{"download"}, pkgs...)...); err != nil {
		return nil, nameDownloadError(pkgs, out, err)
	}
	paths := map[string]string{}
	for _, p := range pkgs {
		f := files[p]
		fp := filepath.Join(dir, f.file)
		got, err := fileSHA256(fp)
		if err != nil {
			return nil, fmt.Errorf("download %s: %w", p, err)
		}
		if got != f.sha256 {
			return nil, fmt.Errorf("download %s: %s: sha256 %s, want %s", p, f.file, got, f.sha256)
		}
		paths[p] = fp
	}
	return paths, nil
}

func nameDownloadError(pkgs []string, out string, err error) error {
	var named []string
	seen := map[string]bool{}
	for _, re := range aptNameErr {
		for _, m := range re.FindAllStringSubmatch(out, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				named = append(named, m[1])
			}
		}
	}
	if len(named) == 0 {
		named = pkgs
	}
	sort.Strings(named)
	return fmt.Errorf("download %s: %w", strings.Join(named, " "), err)
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fetchPool downloads mirror/pool into dir (kept if already there with the
// right hash) and verifies its SHA256. Errors: "fetch pool/...: ...".
func fetchPool(ctx context.Context, mirror, pool, want, dir string) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("fetch %s: %s", pool, fmt.Sprintf(format, args...))
	}
	if want == "" {
		return fail("no sha256 in recipe")
	}
	want = strings.ToLower(want)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, filepath.Base(pool))
	if got, err := fileSHA256(dst); err == nil && got == want {
		return dst, nil
	}
	url := strings.TrimRight(mirror, "/") + "/" + strings.TrimLeft(pool, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail("%v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fail("%v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail("GET %s: %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(dir, ".fetch-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), resp.Body); err != nil {
		tmp.Close()
		return fail("GET %s: %v", url, err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fail("sha256 mismatch for %s: expected %s, got %s", filepath.Base(pool), want, got)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", err
	}
	return dst, nil
}
