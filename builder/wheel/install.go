// Package wheel installs a decided set of distributions (pinned, with
// hashes) into a virtual environment as pip install --no-deps
// --require-hashes would, without pip: it asks the interpreter once for
// pip's options, tags and scheme, reads the indexes (PEP 503 and PEP 691),
// picks each wheel as pip's finder does, downloads in parallel, verifies,
// unpacks into a staging tree (PEP 427), writes INSTALLER, REQUESTED and
// RECORD (PEP 376) and entry-point scripts as pip's, compiles bytecode with
// the venv's interpreter and then moves the tree into place. What it cannot
// do exactly as pip would is handed back for pip, each with a reason.
package wheel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pys2i/pys2i/internal/redact"
)

// Req is one pinned requirement line: what pip reads before its options,
// and its --hash values ("sha256:hex").
type Req struct {
	Spec   string
	Hashes []string
}

// Line is the requirement as a requirements file line again.
func (r Req) Line() string {
	s := r.Spec
	for _, h := range r.Hashes {
		s += " --hash=" + h
	}
	return s
}

// SplitLine cuts a requirements line into its requirement and its
// --hash=algo:hex options. ok is false when the line has another option.
func SplitLine(line string) (Req, bool) {
	fields := strings.Fields(line)
	var spec []string
	var r Req
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case strings.HasPrefix(f, "--hash="):
			r.Hashes = append(r.Hashes, strings.TrimPrefix(f, "--hash="))
		case f == "--hash" && i+1 < len(fields):
			r.Hashes = append(r.Hashes, fields[i+1])
			i++
		case strings.HasPrefix(f, "-"):
			return r, false
		default:
			spec = append(spec, f)
		}
	}
	r.Spec = strings.Join(spec, " ")
	return r, r.Spec != ""
}

// Options of Install.
type Options struct {
	Python  string   // the interpreter pip runs under (its shebang)
	Env     []string // the environment pip would get
	PipArgs []string // pip's arguments before -r: "install --require-hashes --no-deps [--index-url ...]"
	Log     io.Writer
	Jobs    int       // parallel downloads; 0: 8
	Trace   io.Writer // when set, how long each phase took
}

// Result says what Install did.
type Result struct {
	Installed []string // "Name-version" (the requirement's name, as pip's "Successfully installed") installed here
	ForPip    []int    // indexes of the requirements left to pip
}

// Install installs reqs into the venv of o.Python. An error leaves the venv
// as it was. Requirements it cannot install exactly as pip would are
// returned in ForPip, each announced on o.Log with the reason.
func Install(ctx context.Context, o Options, reqs []Req) (Result, error) {
	logf := func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) }
	start := time.Now()
	phase := func(name string) {
		if o.Trace != nil {
			fmt.Fprintf(o.Trace, "%6.3fs %s\n", time.Since(start).Seconds(), name)
		}
	}
	all := func(reason string) (Result, error) {
		logf("---> pip installs the %d pinned packages: %s", len(reqs), redact.URL(reason))
		res := Result{}
		for i := range reqs {
			res.ForPip = append(res.ForPip, i)
		}
		return res, nil
	}
	specs := make([]string, len(reqs))
	for i, r := range reqs {
		specs[i] = r.Spec
	}
	p, err := RunProbe(ctx, o.Python, o.Env, o.PipArgs, specs)
	if err != nil {
		return all(err.Error())
	}
	phase("probe")
	if reason := p.unsupported(); reason != "" {
		return all(reason)
	}
	if len(p.Reqs) != len(reqs) || !filepath.IsAbs(p.Prefix) {
		return all("unexpected answer from " + o.Python)
	}
	indexes := append([]string{p.Options.IndexURL}, p.Options.ExtraIndexURLs...)
	for _, ix := range indexes {
		if reason := insecure(ix, p.Options.TrustedHosts); reason != "" {
			return all(reason)
		}
	}
	client, err := NewClient(indexes, p.Options.TrustedHosts, p.CABundle)
	if err != nil {
		return all(err.Error())
	}
	umask := currentUmask()
	root := filepath.Clean(p.Prefix)

	var res Result
	forPip := func(i int, reason string) {
		logf("---> pip installs %s: %s", reqs[i].Spec, redact.URL(reason))
		res.ForPip = append(res.ForPip, i)
	}
	type job struct {
		i       int
		project string
		version string
		allowed map[string]bool
		scheme  Scheme
		choice  Choice
		path    string
		u       *Unpacked
		err     error
		pip     string // reason to leave it to pip, found on the way
	}
	var jobs []*job
	for i := range reqs {
		pr := p.Reqs[i]
		switch {
		case pr.Error != "":
			forPip(i, "pip reads it: "+pr.Error)
			continue
		case pr.URL != "":
			forPip(i, "a URL requirement")
			continue
		case !pr.MarkerOK:
			logf("Ignoring %s: markers don't match your environment", pr.Name)
			continue
		case len(pr.Specifier) != 1 || (pr.Specifier[0][0] != "==" && pr.Specifier[0][0] != "===") || strings.HasSuffix(pr.Specifier[0][1], ".*"):
			forPip(i, "not pinned with ==")
			continue
		case pr.InstalledOK:
			logf("Requirement already satisfied: %s", pr.Name)
			continue
		case pr.Installed != nil:
			forPip(i, "another version is installed ("+*pr.Installed+")")
			continue
		case contains(p.Options.NoBinary, pr.Canonical) || contains(p.Options.NoBinary, ":all:"):
			forPip(i, "--no-binary")
			continue
		}
		allowed := map[string]bool{}
		for _, h := range reqs[i].Hashes {
			if algo, hex, ok := strings.Cut(h, ":"); ok && algo == "sha256" {
				allowed[strings.ToLower(hex)] = true
			}
		}
		if len(allowed) == 0 {
			forPip(i, "no sha256 hash")
			continue
		}
		s := Scheme{Purelib: pr.Scheme["purelib"], Platlib: pr.Scheme["platlib"], Headers: pr.Scheme["headers"], Scripts: pr.Scheme["scripts"], Data: pr.Scheme["data"]}
		if !within(root, s.Purelib) || !within(root, s.Platlib) || !within(root, s.Headers) || !within(root, s.Scripts) {
			forPip(i, "pip's scheme is not inside the venv")
			continue
		}
		jobs = append(jobs, &job{i: i, project: pr.Canonical, version: pr.Specifier[0][1], allowed: allowed, scheme: s})
	}
	if len(jobs) == 0 {
		return res, nil
	}

	stage, err := os.MkdirTemp(root, ".pys2i-wheels-")
	if err != nil {
		return res, fmt.Errorf("staging area in %s: %w", root, err)
	}
	defer os.RemoveAll(stage)
	downloads := filepath.Join(stage, "downloads")
	if err := os.Mkdir(downloads, 0o700); err != nil {
		return res, fmt.Errorf("staging area: %w", err)
	}
	sm := ScriptMaker{Shebang: p.Shebang, GUIShebang: p.GUIShebang, Template: p.Template, Executable: p.Executable, Linesep: p.Linesep}

	// Index pages, downloads and unpacking, in parallel.
	n := o.Jobs
	if n <= 0 {
		n = 8
	}
	sem := make(chan struct{}, n)
	unpackSem := make(chan struct{}, max(1, runtime.NumCPU()))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for k, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			files, err := client.Files(ctx, j.project)
			if err != nil {
				<-sem
				j.pip = err.Error()
				return
			}
			j.choice = Choose(files, j.project, j.version, j.allowed, p.Tags, p.PythonVersion)
			if j.choice.Reason != "" {
				<-sem
				j.pip = j.choice.Reason
				return
			}
			j.path, j.err = client.Download(ctx, j.choice.File, downloads, j.allowed)
			<-sem
			if j.err != nil {
				cancel()
				return
			}
			unpackSem <- struct{}{}
			defer func() { <-unpackSem }()
			dir := filepath.Join(stage, strconv.Itoa(k))
			j.u, j.err = Unpack(j.path, j.project, root, dir, j.scheme, sm, umask)
			os.Remove(j.path)
			var un *Unsupported
			if errors.As(j.err, &un) {
				j.pip, j.err, j.u = un.Reason, nil, nil
			}
			if j.err != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	phase("index, download, unpack")
	for _, j := range jobs {
		if j.err != nil && !errors.Is(j.err, context.Canceled) {
			return res, j.err
		}
	}
	for _, j := range jobs {
		if j.err != nil {
			return res, j.err
		}
	}
	// Two wheels writing one file: pip's install order decides; leave both to pip.
	owner := map[string]*job{}
	for _, j := range jobs {
		if j.u == nil {
			continue
		}
		for _, f := range j.u.Files {
			if o, ok := owner[f]; ok && o != j && o.u != nil {
				o.pip = "it shares " + f + " with another distribution"
				j.pip = o.pip
			}
			owner[f] = j
		}
	}
	var ready []*job
	for _, j := range jobs {
		if j.pip != "" {
			forPip(j.i, j.pip)
			continue
		}
		ready = append(ready, j)
	}
	// Bytecode, one interpreter per core.
	var items [][2]string
	var owners []*job
	for _, j := range ready {
		for _, src := range j.u.PySources() {
			items = append(items, [2]string{j.u.staged(src), src})
			owners = append(owners, j)
		}
	}
	var pycs []string
	if p.Options.Compile && len(items) > 0 {
		if pycs, err = Compile(ctx, o.Python, o.Env, items, max(1, runtime.NumCPU())); err != nil {
			return res, err
		}
	}
	phase("bytecode")
	byJob := map[*job][]string{}
	for k, pyc := range pycs {
		if pyc == "" {
			continue
		}
		j := owners[k]
		if _, err := os.Stat(j.u.staged(pyc)); err != nil {
			return res, fmt.Errorf("compile bytecode: %w", err)
		}
		j.u.note(pyc)
		byJob[j] = append(byJob[j], pyc)
	}
	for _, j := range ready {
		if err := j.u.Finish(byJob[j]); err != nil {
			return res, fmt.Errorf("RECORD for %s: %w", j.project, err)
		}
	}
	var units []*Unpacked
	for _, j := range ready {
		units = append(units, j.u)
	}
	phase("RECORD")
	if err := moveIntoPlace(root, units); err != nil {
		return res, err
	}
	phase("move into place")
	for _, j := range ready {
		res.Installed = append(res.Installed, p.Reqs[j.i].Name+"-"+j.choice.Wheel.Version)
	}
	sort.Ints(res.ForPip)
	return res, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unsupported is a reason pip's options put the whole set out of reach.
func (p *Probe) unsupported() string {
	o := p.Options
	major, _ := strconv.Atoi(strings.Split(p.PipVersion, ".")[0])
	switch {
	case major < 21 || major > 26:
		return "pip " + p.PipVersion + " (this installer follows pip 21 to 26)"
	case !p.InVenv:
		return "the interpreter is not in a virtual environment"
	case p.PycachePrefix != nil:
		return "PYTHONPYCACHEPREFIX is set"
	case o.NoIndex:
		return "--no-index"
	case len(o.FindLinks) > 0:
		return "--find-links " + strings.Join(o.FindLinks, " ")
	case o.Proxy != nil && *o.Proxy != "":
		return "--proxy"
	case o.ClientCert != nil:
		return "--client-cert"
	case o.TargetDir != nil, o.PrefixPath != nil, o.RootPath != nil:
		return "--target, --prefix or --root"
	case o.UseUserSite != nil && *o.UseUserSite:
		return "--user"
	case o.IgnoreInstalled, o.ForceReinstall, o.Upgrade, o.DryRun:
		return "--ignore-installed, --force-reinstall, --upgrade or --dry-run"
	case len(o.Platforms) > 0, o.PythonVersionOpt != nil, o.Implementation != nil, len(o.ABIs) > 0:
		return "--platform, --python-version, --implementation or --abi"
	case len(o.GlobalOptions) > 0, o.ConfigSettings != nil:
		return "--global-option or --config-settings"
	case len(p.Reqs) == 0:
		return "no requirements"
	}
	return ""
}

// insecure is pip's rule for an index over plain HTTP: ignored unless on
// loopback or a trusted host; this installer leaves that case to pip.
func insecure(index string, trusted []string) string {
	u, err := url.Parse(index)
	if err != nil {
		return "index URL " + index + ": " + err.Error()
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		h := u.Hostname()
		if h == "localhost" {
			return ""
		}
		if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			return ""
		}
		for _, t := range trusted {
			if t == h || t == u.Host {
				return ""
			}
		}
		return "index " + index + " is plain HTTP and not a trusted host"
	}
	return "index URL scheme " + u.Scheme
}

func currentUmask() os.FileMode {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return os.FileMode(n)
				}
			}
		}
	}
	return 0o022
}
