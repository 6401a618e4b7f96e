package world

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pys2i/pys2i/test/world/pyindex"
)

// Image is one base image of the world.
type Image struct {
	Name   string   `json:"name"`   // in the world's podman store, e.g. localhost/pys2i-test/python-minimal:latest
	Layout string   `json:"layout"` // OCI layout directory
	Ref    string   `json:"ref"`    // image name inside the layout
	Digest string   `json:"digest"` // manifest digest
	RootFS string   `json:"rootfs"` // the unpacked root filesystem, read-only for tests
	Env    []string `json:"env"`
}

// Manifest is what a finished world holds; it is written last, so its
// presence means every part is complete.
type Manifest struct {
	Root     string `json:"root"`
	BaseKey  string `json:"base_key"` // the primary line's
	IndexKey string `json:"index_key"`
	GoKey    string `json:"go_key"`
	// RuntimeKey is the primary line's python-runtime image's part (runtime.go).
	RuntimeKey string `json:"runtime_key"`
	Index      string `json:"index"` // directory served as the package index (has simple/)
	ToolsKey   string `json:"tools_key"`
	Tools      string `json:"tools"` // the tools venv: Tools/bin/{pipenv,poetry,uv,pyspdxtools,python}
	// Images are the primary line's minimal, full and runtime images under
	// their unversioned names, and the golang image.
	Images map[string]Image `json:"images"`
	// Lines are every Python line's images, the primary's included, under
	// versioned names (python-311-minimal).
	Lines []LineImages `json:"lines"`
	Conf  Conf         `json:"conf"`
}

// LineImages are one Python line's images by variant: minimal, full, runtime.
type LineImages struct {
	Python  string           `json:"python"` // "3.13"
	Tag     string           `json:"tag"`    // "313"
	Suite   string           `json:"suite"`
	BaseKey string           `json:"base_key"`
	Images  map[string]Image `json:"images"`
}

// Line returns the images of Python version python ("3.13").
func (m *Manifest) Line(python string) (LineImages, error) {
	var have []string
	for _, l := range m.Lines {
		if l.Python == python {
			return l, nil
		}
		have = append(have, l.Python)
	}
	return LineImages{}, fmt.Errorf("test world has no Python %s line (it has %s): run `make world`", python, strings.Join(have, ", "))
}

// Builder builds the world described by Recipe under Root.
type Builder struct {
	Root   string
	Mirror string
	Recipe Recipe
	Log    io.Writer
}

// step runs one named part of the build; its error names the part.
func (b *Builder) step(name string, fn func() error) error {
	start := time.Now()
	fmt.Fprintf(b.Log, "world: %s ...\n", name)
	if err := fn(); err != nil {
		return fmt.Errorf("world: step %s: %w", name, err)
	}
	fmt.Fprintf(b.Log, "world: %s done in %.1fs\n", name, time.Since(start).Seconds())
	return nil
}

// Build makes whatever part of the world is missing and returns the manifest.
func (b *Builder) Build(ctx context.Context) (*Manifest, error) {
	if err := os.MkdirAll(b.Root, 0o755); err != nil {
		return nil, fmt.Errorf("world: %w", err)
	}
	unlock, err := lockDir(b.Root)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Leftovers of a build that was killed: never trusted, always removed.
	if old, _ := filepath.Glob(filepath.Join(b.Root, ".tmp-*")); len(old) > 0 {
		for _, o := range old {
			os.RemoveAll(o)
		}
	}
	r := b.Recipe
	// Each line's base images, then what is shared, then each line's
	// runtime image (the golang image sits on the primary line's base).
	type linePart struct {
		line          Line
		base, runtime string
		digests       map[string]string
	}
	// The lines' bases are built side by side (downloads and dpkg; a cold
	// world takes one base's time, not the sum), each logging its lines
	// under its own prefix.
	parts := make([]linePart, len(r.Lines))
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error // the cause: a line stopped by it fails too, of no interest
	lineCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var logMu sync.Mutex
	for i, l := range r.Lines {
		parts[i] = linePart{line: l, base: filepath.Join(b.Root, "base-"+r.BaseKey(l)), digests: map[string]string{}}
		lb := *b
		lb.Log = &prefixWriter{mu: &logMu, w: b.Log, prefix: "[" + l.Python + "] "}
		wg.Add(1)
		go func(p *linePart, lb *Builder) {
			defer wg.Done()
			err := lb.cached(p.base, "base images "+l.Python, func(tmp string) error {
				return lb.buildBase(lineCtx, l, tmp)
			})
			if err == nil {
				if err = readJSON(filepath.Join(p.base, "digests.json"), &p.digests); err != nil {
					err = fmt.Errorf("world: base images %s: %w", l.Python, err)
				}
			}
			if err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel() // the other line's build stops too
				}
				errMu.Unlock()
			}
			lb.Log.(*prefixWriter).Flush()
		}(&parts[i], &lb)
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	primary := parts[0]
	m := &Manifest{Root: b.Root, BaseKey: r.BaseKey(primary.line), IndexKey: r.IndexKey()}
	m.Index = filepath.Join(b.Root, "index-"+m.IndexKey)
	if err := b.cached(m.Index, "package index", func(tmp string) error {
		return b.step("package index", func() error {
			// Downloads go where the host's pip would trust them.
			cfg, err := pyindex.HostPipConfig(ctx)
			if err != nil {
				return err
			}
			client, err := pyindex.HTTPClient(cfg.Cert)
			if err != nil {
				return err
			}
			return pyindex.Build(ctx, b.Recipe.Index, pyindex.Options{
				CacheDir: filepath.Join(b.Root, "cache", "pyfiles"), OutDir: tmp, Client: client, Log: b.Log,
			})
		})
	}); err != nil {
		return nil, err
	}
	m.ToolsKey = b.Recipe.ToolsKey()
	m.Tools = filepath.Join(b.Root, "tools-"+m.ToolsKey)
	if err := b.toolsVenv(ctx, m.Tools, m.Index); err != nil {
		return nil, err
	}
	if err := b.step("podman configuration", func() error {
		c, err := writeConf(b.Root)
		m.Conf = c
		if err != nil {
			return err
		}
		return resetCopiedDB(ctx, c, b.Root)
	}); err != nil {
		return nil, err
	}
	tc, err := hostGo(ctx)
	if err != nil {
		return nil, fmt.Errorf("world: step go image: %w", err)
	}
	m.GoKey = r.GoKey(tc.Version)
	goDir := filepath.Join(b.Root, "golang-"+m.GoKey)
	goDigest := map[string]string{}
	if err := b.cached(goDir, "go image", func(tmp string) error {
		return b.step("go image", func() error {
			d, err := buildGoImage(ctx, r, primary.base, tmp, tc)
			if err != nil {
				return err
			}
			return writeJSON(filepath.Join(tmp, "digests.json"), map[string]string{"golang": d})
		})
	}); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(goDir, "digests.json"), &goDigest); err != nil {
		return nil, fmt.Errorf("world: go image: %w", err)
	}
	keep := []string{m.Index, m.Tools, goDir}
	for i := range parts {
		p := &parts[i]
		if p.runtime, err = b.runtimePart(ctx, p.line, p.base, p.digests); err != nil {
			return nil, err
		}
		keep = append(keep, p.base, p.runtime)
	}
	m.RuntimeKey = r.RuntimeKey(primary.line)
	load := func(img Image) error {
		return b.step("load "+img.Name+" into podman", func() error {
			return loadImage(ctx, m.Conf, b.Root, img)
		})
	}
	for _, p := range parts {
		li := LineImages{Python: p.line.Python, Tag: p.line.Tag(), Suite: p.line.Suite, BaseKey: r.BaseKey(p.line), Images: map[string]Image{}}
		for _, v := range []string{"minimal", "full", "runtime"} {
			img := lineImage(r, p.line, v, p.base, p.runtime, p.digests)
			if err := load(img); err != nil {
				return nil, err
			}
			li.Images[v] = img
		}
		m.Lines = append(m.Lines, li)
	}
	m.Images = map[string]Image{}
	for v, img := range m.Lines[0].Images {
		img.Name = "localhost/pys2i-test/python-" + v + ":latest"
		if err := load(img); err != nil {
			return nil, err
		}
		m.Images[v] = img
	}
	goImg := Image{
		Name:   "localhost/pys2i-test/golang:" + strings.TrimPrefix(tc.Version, "go"),
		Layout: filepath.Join(goDir, "oci"), Ref: "golang", Digest: goDigest["golang"],
	}
	if err := load(goImg); err != nil {
		return nil, err
	}
	m.Images["golang"] = goImg
	if err := writeJSON(filepath.Join(b.Root, "world.json"), m); err != nil {
		return nil, fmt.Errorf("world: manifest: %w", err)
	}
	b.prune(keep...)
	return m, nil
}

// prefixWriter writes whole lines to w, each after prefix, under mu: two
// builders share one log without mixing their lines.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	i := bytes.LastIndexByte(p.buf, '\n')
	if i < 0 {
		return len(b), nil
	}
	p.emit(p.buf[:i+1])
	p.buf = append(p.buf[:0], p.buf[i+1:]...)
	return len(b), nil
}

// Flush writes what is left of an unfinished line.
func (p *prefixWriter) Flush() {
	if len(p.buf) > 0 {
		p.emit(append(p.buf, '\n'))
		p.buf = p.buf[:0]
	}
}

func (p *prefixWriter) emit(lines []byte) {
	var out bytes.Buffer
	for _, l := range bytes.SplitAfter(lines, []byte("\n")) {
		if len(l) > 0 {
			out.WriteString(p.prefix)
			out.Write(l)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.w.Write(out.Bytes())
}

// lineImage is image variant v of line l, under its versioned name.
func lineImage(r Recipe, l Line, v, base, runtime string, digests map[string]string) Image {
	img := Image{
		Name:   "localhost/pys2i-test/python-" + l.Tag() + "-" + v + ":latest",
		Layout: filepath.Join(base, "oci"), Ref: "python-" + v, Digest: digests["python-"+v],
		RootFS: filepath.Join(base, "rootfs", v), Env: r.Env,
	}
	if v == "runtime" {
		// Its own part, and only an image: no unpacked tree is kept.
		img.Layout, img.RootFS = filepath.Join(runtime, "oci"), ""
	}
	return img
}

// cached builds dir with fn in a temporary sibling and renames it into
// place, unless dir already exists (complete by construction).
func (b *Builder) cached(dir, name string, fn func(tmp string) error) error {
	if _, err := os.Stat(dir); err == nil {
		fmt.Fprintf(b.Log, "world: %s cached (%s)\n", name, filepath.Base(dir))
		return nil
	}
	tmp, err := os.MkdirTemp(b.Root, ".tmp-"+filepath.Base(dir)+"-")
	if err != nil {
		return fmt.Errorf("world: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := fn(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("world: %s: %w", name, err)
	}
	return nil
}

func (b *Builder) buildBase(ctx context.Context, l Line, tmp string) error {
	r := b.Recipe
	minRoot := filepath.Join(tmp, "rootfs", "minimal")
	fullRoot := filepath.Join(tmp, "rootfs", "full")
	name := func(what string) string { return fmt.Sprintf("%s %s (%s)", what, l.Python, l.Suite) }
	if err := b.step(name("debootstrap python-minimal"), func() error {
		if err := os.MkdirAll(minRoot, 0o755); err != nil {
			return err
		}
		cache := filepath.Join(b.Root, "cache", "debootstrap-"+l.Suite)
		return debootstrap(ctx, b.Log, minRoot, l.Suite, b.Mirror, cache, r.Minimal)
	}); err != nil {
		return err
	}
	if err := b.step(name("locales and clean python-minimal"), func() error {
		if err := generateLocales(ctx, b.Log, minRoot, r.Locales); err != nil {
			return err
		}
		return cleanRootfs(minRoot)
	}); err != nil {
		return err
	}
	if err := b.step(name("install python-full packages"), func() error {
		if err := command(ctx, b.Log, "cp", "-a", minRoot, fullRoot); err != nil {
			return err
		}
		if err := aptInstall(ctx, b.Log, fullRoot, r.Full); err != nil {
			return err
		}
		return cleanRootfs(fullRoot)
	}); err != nil {
		return err
	}
	var digests map[string]string
	if err := b.step(name("write OCI images"), func() error {
		var err error
		digests, err = buildImages(ctx, r, l, tmp)
		return err
	}); err != nil {
		return err
	}
	return writeJSON(filepath.Join(tmp, "digests.json"), digests)
}

// prune removes parts built from older recipes, the scratch of the
// Debian-repacking index that came before the locked one, and the
// debootstrap cache of the time before lines.
func (b *Builder) prune(keep ...string) {
	for _, stale := range []string{"index-work", "debootstrap"} { // now debootstrap-SUITE
		if old := filepath.Join(b.Root, "cache", stale); exists(old) {
			fmt.Fprintf(b.Log, "world: removing stale cache/%s\n", stale)
			os.RemoveAll(old)
		}
	}
	for _, pattern := range []string{"base-*", "index-*", "tools-*", "golang-*", "runtime-*"} {
		matches, _ := filepath.Glob(filepath.Join(b.Root, pattern))
		for _, m := range matches {
			if !contains(keep, m) {
				fmt.Fprintf(b.Log, "world: removing stale %s\n", filepath.Base(m))
				os.RemoveAll(m)
			}
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Load reads the manifest of a finished world under root.
func Load(root string) (*Manifest, error) {
	var m Manifest
	if err := readJSON(filepath.Join(root, "world.json"), &m); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("test world not built under %s: run `make world`", root)
		}
		return nil, err
	}
	return &m, nil
}

// DefaultRoot is where the world lives unless PYS2I_WORLD says otherwise.
func DefaultRoot() string {
	if r := os.Getenv("PYS2I_WORLD"); r != "" {
		return r
	}
	if c, err := os.UserCacheDir(); err == nil {
		return filepath.Join(c, "pys2i", "world")
	}
	return filepath.Join(os.TempDir(), "pys2i-world")
}

// DefaultMirror is the Debian mirror of this machine's apt sources.
func DefaultMirror() string {
	if m := os.Getenv("PYS2I_WORLD_MIRROR"); m != "" {
		return m
	}
	for _, f := range []string{"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(line)
			switch {
			case len(fields) >= 2 && fields[0] == "URIs:" && !strings.Contains(fields[1], "security"):
				return strings.TrimSuffix(fields[1], "/")
			case len(fields) >= 3 && fields[0] == "deb" && !strings.Contains(line, "security"):
				for _, f := range fields[1:] {
					if strings.Contains(f, "://") {
						return strings.TrimSuffix(f, "/")
					}
				}
			}
		}
	}
	return "http://deb.debian.org/debian"
}

func lockDir(root string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(root, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("world: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("world: lock: %w", err)
	}
	return func() { f.Close() }, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeJSON writes atomically: a reader sees the old file or the new one.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
