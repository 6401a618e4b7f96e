package pyindex

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options of Build.
type Options struct {
	Mirror  string    // e.g. http://deb.debian.org/debian
	Suite   string    // "bookworm"
	WorkDir string    // scratch (downloads, apt state); reused downloads are kept
	OutDir  string    // the index root: OutDir/simple/...; absent or empty
	Log     io.Writer // one line per step; nil: discard
}

// DebianPython is the interpreter that builds sdists into wheels: Debian's
// own, which sees python3-setuptools and python3-wheel.
const DebianPython = "/usr/bin/python3"

// SourceDateEpoch is given to wheel builds (1980-01-01, the zip epoch).
const SourceDateEpoch = "315532800"

type builder struct {
	o       Options
	workDir string
	debDir  string
	tmp     string
	apt     *apt
	debs    map[string]string // deb name -> .deb path

	logMu sync.Mutex

	patchelfOnce sync.Once
	patchelf     string
	patchelfErr  error
}

func (b *builder) logf(format string, args ...any) {
	if b.o.Log == nil {
		return
	}
	b.logMu.Lock()
	defer b.logMu.Unlock()
	fmt.Fprintf(b.o.Log, format+"\n", args...)
}

// Build builds the index described by r into o.OutDir: OutDir/simple/
// index.html, OutDir/simple/<project>/{index.html,files} and
// OutDir/MANIFEST.txt, written last. Nothing is written to OutDir before
// every artifact has been built; on error OutDir holds no MANIFEST.txt.
// Two builds over the same downloads produce identical bytes.
func Build(ctx context.Context, r Recipe, o Options) error {
	if o.Mirror == "" || o.Suite == "" || o.WorkDir == "" || o.OutDir == "" {
		return errors.New("pyindex: Options.Mirror, Suite, WorkDir and OutDir are required")
	}
	if err := checkRecipe(r); err != nil {
		return err
	}
	if ents, err := os.ReadDir(o.OutDir); err == nil && len(ents) > 0 {
		return fmt.Errorf("pyindex: OutDir %s is not empty", o.OutDir)
	} else if err != nil && !os.IsNotExist(err) {
		return err
	}
	workDir, err := filepath.Abs(o.WorkDir)
	if err != nil {
		return err
	}
	b := &builder{o: o, workDir: workDir, debDir: filepath.Join(workDir, "debs"), tmp: filepath.Join(workDir, "tmp")}
	if err := os.MkdirAll(b.tmp, 0o755); err != nil {
		return err
	}
	start := time.Now()

	// Debian packages.
	needed := map[string]bool{}
	for _, w := range r.Wheels {
		needed[w.Deb] = true
		for _, d := range w.Bundle {
			needed[d] = true
		}
		for _, e := range w.Embed {
			needed[e.Deb] = true
		}
	}
	for _, d := range r.Prebuilt {
		needed[d] = true
	}
	if len(needed) > 0 {
		if b.apt, err = newApt(filepath.Join(workDir, "apt"), o.Mirror, o.Suite); err != nil {
			return fmt.Errorf("apt setup: %w", err)
		}
		b.logf("apt update %s %s main", o.Mirror, o.Suite)
		if err := b.apt.update(ctx); err != nil {
			return fmt.Errorf("apt update %s %s: %w", o.Mirror, o.Suite, err)
		}
		pkgs := sortedKeys(needed)
		b.logf("download %d debs", len(pkgs))
		if b.debs, err = b.apt.download(ctx, b.debDir, pkgs); err != nil {
			return err
		}
	}

	// Source tarballs.
	srcs := make([]string, len(r.Sdists))
	for i, s := range r.Sdists {
		b.logf("fetch %s", s.Pool)
		if srcs[i], err = fetchPool(ctx, o.Mirror, s.Pool, s.SHA256, filepath.Join(workDir, "sdists")); err != nil {
			return err
		}
	}

	// Repack, normalize and build, in parallel.
	type job struct {
		name string
		run  func() ([]*artifact, error)
	}
	var jobs []job
	for _, w := range r.Wheels {
		w := w
		jobs = append(jobs, job{"repack " + w.Deb, func() ([]*artifact, error) {
			a, err := b.repack(ctx, w)
			if err != nil {
				return nil, err
			}
			return []*artifact{a}, nil
		}})
	}
	for _, d := range r.Prebuilt {
		d := d
		jobs = append(jobs, job{"prebuilt " + d, func() ([]*artifact, error) {
			as, err := b.debWheels(d)
			for _, a := range as {
				b.logf("prebuilt %s -> %s", d, a.file)
			}
			return as, err
		}})
	}
	for i, s := range r.Sdists {
		s, src := s, srcs[i]
		jobs = append(jobs, job{fmt.Sprintf("sdist %s %s", s.Project, s.Version), func() ([]*artifact, error) {
			return b.sdist(ctx, s, src)
		}})
	}
	results := make([][]*artifact, len(jobs))
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, max(1, min(runtime.NumCPU(), 4)))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = fmt.Errorf("%s: %w", j.name, ctx.Err())
				return
			}
			results[i], errs[i] = j.run()
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w", j.name, errs[i])
			}
		}()
	}
	wg.Wait()
	var all []*artifact
	for i := range jobs {
		if errs[i] != nil {
			return errs[i]
		}
		all = append(all, results[i]...)
	}
	if err := writeIndex(o.OutDir, all); err != nil {
		return fmt.Errorf("write index %s: %w", o.OutDir, err)
	}
	b.logf("index %s: %d files in %s", o.OutDir, len(all), time.Since(start).Round(time.Millisecond))
	return nil
}

func checkRecipe(r Recipe) error {
	debs := map[string]bool{}
	for i, w := range r.Wheels {
		if w.Deb == "" || w.Project == "" {
			return fmt.Errorf("recipe: wheels[%d]: deb and project are required", i)
		}
		if debs[w.Deb] {
			return fmt.Errorf("recipe: deb %s repacked twice", w.Deb)
		}
		debs[w.Deb] = true
		for _, e := range w.Embed {
			if e.Deb == "" || e.To == "" || validWheelPath(e.To) != nil {
				return fmt.Errorf("recipe: %s: bad embed %+v", w.Deb, e)
			}
		}
	}
	for i, s := range r.Sdists {
		if s.Project == "" || s.Version == "" || s.Pool == "" {
			return fmt.Errorf("recipe: sdists[%d]: project, version and pool are required", i)
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sdist serves the pool tarball as <project>-<version>.tar.gz and, if asked,
// builds a wheel from it with Debian's python3.
func (b *builder) sdist(ctx context.Context, s Sdist, src string) ([]*artifact, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	sd := &artifact{project: s.Project, file: SdistFileName(s.Project, s.Version), data: data, from: "sdist " + s.Pool}
	if pkgInfo, err := sdistPKGInfo(data); err == nil && pkgInfo != nil {
		md := parseMetadata(pkgInfo)
		sd.requiresPython = md.get("Requires-Python")
		if v := md.get("Version"); v != "" && v != s.Version {
			return nil, fmt.Errorf("%s: PKG-INFO says version %s, recipe %s", s.Pool, v, s.Version)
		}
	}
	out := []*artifact{sd}
	if !s.Wheel {
		return out, nil
	}
	whl, err := b.buildWheel(ctx, s, src)
	if err != nil {
		return nil, err
	}
	if sd.requiresPython == "" {
		sd.requiresPython = whl.requiresPython
	}
	return append(out, whl), nil
}

// sdistPKGInfo returns <top>/PKG-INFO of a .tar.gz, or nil.
func sdistPKGInfo(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		n := strings.TrimPrefix(path.Clean(h.Name), "./")
		if dir, base := path.Split(n); base == "PKG-INFO" && strings.Count(dir, "/") == 1 && h.Typeflag == tar.TypeReg {
			return io.ReadAll(tr)
		}
	}
}

func (b *builder) buildWheel(ctx context.Context, s Sdist, src string) (*artifact, error) {
	dir, err := os.MkdirTemp(b.tmp, "pipwheel-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	outDir := filepath.Join(dir, "out")
	home := filepath.Join(dir, "home")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{outDir, home, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	cmd := exec.CommandContext(ctx, DebianPython, "-m", "pip", "wheel",
		"--no-index", "--no-deps", "--no-build-isolation", "--no-cache-dir",
		"--disable-pip-version-check", "--no-color", "-w", outDir, src)
	cmd.Dir = dir
	// A clean environment: the host sets PIP_FIND_LINKS and friends.
	cmd.Env = []string{
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + home,
		"TMPDIR=" + tmp,
		"LC_ALL=C.UTF-8",
		"SOURCE_DATE_EPOCH=" + SourceDateEpoch,
		"PYTHONHASHSEED=0",
		"PYTHONDONTWRITEBYTECODE=1",
	}
	start := time.Now()
	outb, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s -m pip wheel %s: %v: %s", DebianPython, filepath.Base(src), err, lastLines(string(outb), 20))
	}
	ents, err := os.ReadDir(outDir)
	if err != nil {
		return nil, err
	}
	var whls []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".whl") {
			whls = append(whls, e.Name())
		}
	}
	if len(whls) != 1 {
		return nil, fmt.Errorf("pip wheel made %d wheels (%v), want 1", len(whls), whls)
	}
	raw, err := os.ReadFile(filepath.Join(outDir, whls[0]))
	if err != nil {
		return nil, err
	}
	files, err := ReadWheel(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", whls[0], err)
	}
	name, version, rp, err := wheelMetadata(files)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", whls[0], err)
	}
	if NormalizeName(name) != NormalizeName(s.Project) || version != s.Version {
		return nil, fmt.Errorf("built %s is %s %s, recipe says %s %s", whls[0], name, version, s.Project, s.Version)
	}
	if !strings.HasSuffix(whls[0], "-none-any.whl") {
		return nil, fmt.Errorf("built %s is not a pure wheel", whls[0])
	}
	data, err := WheelBytes(files)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", whls[0], err)
	}
	b.logf("build %s %s -> %s (%s)", s.Project, s.Version, whls[0], time.Since(start).Round(time.Millisecond))
	return &artifact{project: s.Project, file: whls[0], data: data, requiresPython: rp, from: "build " + s.Pool}, nil
}
