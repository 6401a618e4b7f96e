package pyindex

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// PinOptions of Resolve.
type PinOptions struct {
	Pip     string    // the host's pip, e.g. "pip" (its configuration and CA bundle apply)
	WorkDir string    // scratch
	Log     io.Writer // one line per resolution; nil: discard
}

// Resolve resolves every pin for every target with the host's pip (a dry-run
// install for the target's platform, whose report names each file, its URL
// and its sha256; with PEP 658 metadata nothing big is downloaded) and, for
// source distributions, reads the file from the index's JSON page (pip
// would build an sdist's metadata, which mod_wsgi cannot without Apache's
// headers). A pin that fails for the primary target fails Resolve; for another
// target it is logged and left out.
func Resolve(ctx context.Context, pins []Pin, o PinOptions) (Lock, error) {
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	cfg, err := readPipConfig(ctx, o.Pip)
	if err != nil {
		return Lock{}, err
	}
	client, err := HTTPClient(cfg.Cert)
	if err != nil {
		return Lock{}, err
	}
	type job struct {
		pin    Pin
		target Target
	}
	var jobs []job
	for _, p := range pins {
		if p.Sdist {
			jobs = append(jobs, job{pin: p})
			continue
		}
		for _, t := range Targets {
			jobs = append(jobs, job{p, t})
		}
	}
	results := make([][]LockedFile, len(jobs))
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, 3) // network-bound; leave the shared cores to others
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if j.pin.Sdist {
				results[i], errs[i] = pinSdist(ctx, client, cfg.IndexURL, j.pin.Req)
			} else {
				results[i], errs[i] = pinWheels(ctx, o.Pip, o.WorkDir, j.pin.Req, j.target)
			}
		}()
	}
	wg.Wait()
	var l Lock
	for i, j := range jobs {
		what := j.pin.Req
		if j.target.Name != "" {
			what += " for " + j.target.Name
		}
		if errs[i] != nil {
			if j.pin.Sdist || j.target.Primary {
				return Lock{}, fmt.Errorf("pins.txt:%d: %s: %w", j.pin.Line, what, errs[i])
			}
			logf("pin: %s: left out (%s)", what, firstLine(errs[i].Error()))
			continue
		}
		logf("pin: %s: %d files", what, len(results[i]))
		if err := l.Merge(results[i]...); err != nil {
			return Lock{}, fmt.Errorf("pins.txt:%d: %s: %w", j.pin.Line, what, err)
		}
	}
	return l, l.Check()
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "ERROR: "); i >= 0 {
		s = s[i:]
	}
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// hostPipEnv is the host's environment without the variables that would
// add other sources to the resolution (the host sets PIP_FIND_LINKS).
func hostPipEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_TARGET", "PIP_PREFIX", "PIP_USER", "PIP_REQUIRE_VIRTUALENV":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func pinWheels(ctx context.Context, pip, workDir, req string, t Target) ([]LockedFile, error) {
	dir, err := os.MkdirTemp(workDir, "pin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	report := filepath.Join(dir, "report.json")
	args := append([]string{"install", "--dry-run", "--ignore-installed", "--quiet",
		"--disable-pip-version-check", "--target", filepath.Join(dir, "target"), "--report", report},
		PipTargetArgs(t)...)
	cmd := exec.CommandContext(ctx, pip, append(args, req)...)
	cmd.Dir, cmd.Env = dir, hostPipEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s %s: %v: %s", pip, strings.Join(args, " "), err, lastLines(string(out), 8))
	}
	b, err := os.ReadFile(report)
	if err != nil {
		return nil, err
	}
	return ParseReport(b)
}

// ParseReport reads the files a pip installation report (pip install
// --report) would install.
func ParseReport(b []byte) ([]LockedFile, error) {
	var r struct {
		Install []struct {
			Metadata struct {
				Name           string `json:"name"`
				Version        string `json:"version"`
				RequiresPython string `json:"requires_python"`
			} `json:"metadata"`
			DownloadInfo struct {
				URL         string `json:"url"`
				ArchiveInfo *struct {
					Hashes map[string]string `json:"hashes"`
				} `json:"archive_info"`
			} `json:"download_info"`
		} `json:"install"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("pip report: %w", err)
	}
	var out []LockedFile
	for _, it := range r.Install {
		d := it.DownloadInfo
		if d.ArchiveInfo == nil || d.ArchiveInfo.Hashes["sha256"] == "" {
			return nil, fmt.Errorf("pip report: %s %s: no archive with a sha256 (%s)", it.Metadata.Name, it.Metadata.Version, d.URL)
		}
		name, err := FileNameFromURL(d.URL)
		if err != nil {
			return nil, err
		}
		out = append(out, LockedFile{
			Name: NormalizeName(it.Metadata.Name), Version: it.Metadata.Version, Filename: name,
			SHA256: d.ArchiveInfo.Hashes["sha256"], RequiresPython: it.Metadata.RequiresPython, URL: d.URL,
		})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pip report: nothing to install")
	}
	return out, nil
}

// pinSdist finds name==version's source distribution in the index's JSON
// project page (PEP 691).
func pinSdist(ctx context.Context, client *http.Client, indexURL, req string) ([]LockedFile, error) {
	name, version, err := SdistPin(req)
	if err != nil {
		return nil, err
	}
	page := strings.TrimSuffix(indexURL, "/") + "/" + NormalizeName(name) + "/"
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, page, nil)
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Accept", "application/vnd.pypi.simple.v1+json")
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", page, resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", page, err)
	}
	f, err := SdistFromProjectJSON(b, name, version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", page, err)
	}
	return []LockedFile{f}, nil
}

// SdistFromProjectJSON picks name-version.tar.gz from a PEP 691 project
// page (either spelling of the name: PEP 625's or the project's own).
func SdistFromProjectJSON(b []byte, name, version string) (LockedFile, error) {
	var page struct {
		Files []struct {
			Filename       string            `json:"filename"`
			URL            string            `json:"url"`
			Hashes         map[string]string `json:"hashes"`
			RequiresPython string            `json:"requires-python"`
			Yanked         any               `json:"yanked"`
		} `json:"files"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		return LockedFile{}, err
	}
	want := map[string]bool{}
	for _, n := range []string{name, EscapeName(name), strings.ToLower(EscapeName(name))} {
		want[n+"-"+version+".tar.gz"] = true
	}
	for _, f := range page.Files {
		if !want[f.Filename] {
			continue
		}
		if y, ok := f.Yanked.(bool); (ok && y) || (!ok && f.Yanked != nil) {
			return LockedFile{}, fmt.Errorf("%s is yanked", f.Filename)
		}
		if f.Hashes["sha256"] == "" {
			return LockedFile{}, fmt.Errorf("%s has no sha256", f.Filename)
		}
		return LockedFile{Name: NormalizeName(name), Version: version, Filename: f.Filename,
			SHA256: f.Hashes["sha256"], RequiresPython: f.RequiresPython, URL: f.URL}, nil
	}
	return LockedFile{}, fmt.Errorf("no source distribution %s-%s.tar.gz", name, version)
}

// EscapeName is the form of a project name in distribution file names:
// runs of "-", "_" and "." become "_", case kept.
func EscapeName(name string) string {
	return nameRuns.ReplaceAllString(name, "_")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
