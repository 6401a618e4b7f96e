package dockerfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/pys2i/pys2i/imagebuild/assembleuser"
	"github.com/pys2i/pys2i/imagebuild/imageconfig"
	"github.com/pys2i/pys2i/imagebuild/options/buildenv"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/imagebuild/source/s2iscripts"
	"github.com/pys2i/pys2i/internal/copyfile"
	"github.com/pys2i/pys2i/internal/redact"
)

// Request is an --as-dockerfile build.
type Request struct {
	// Path is the Containerfile to write; one ending in "/" gets "Dockerfile"
	// appended, as in s2i. Its directory receives the context (upload/).
	Path    string
	Source  source.Options
	Builder string // FROM, as given
	// BuilderConfig, if known, supplies the builder's labels (scripts URL,
	// destination, assemble user). nil means unknown: s2i then carries on
	// with its defaults, and so do we.
	BuilderConfig   *v1.Image
	ScriptsURL      string
	ImageScriptsURL string // default image:///usr/libexec/s2i
	Destination     string
	AssembleUser    string // default: the builder's label, else 1001
	AllowedUIDs     assembleuser.Ranges
	EnvFlags        []string // -e
	EnvFiles        []string // -E
	Tag             string   // default io.k8s.display-name
	AppName         string   // io.k8s.display-name
	Description     string   // io.k8s.description
	// IncrementalFrom, if set, makes an incremental build from that image.
	IncrementalFrom string
}

// Result says what was written.
type Result struct {
	Path     string   // the Containerfile
	Warnings []string // for the log
	// BuildArgs name the variables that hold URL credentials: ARGs the
	// image build must be given (--build-arg NAME=...).
	BuildArgs []string
}

// Generate writes the Containerfile and its context. The directory's
// upload/ must not exist yet (or be empty): stale sources from an earlier
// run would be built. On failure, the upload/ it made is removed.
func Generate(ctx context.Context, req Request) (res Result, err error) {
	p := req.Path
	if strings.HasSuffix(p, "/") {
		p += "Dockerfile"
	}
	g := &generator{req: req, res: Result{Path: p}}
	if req.BuilderConfig != nil {
		g.labels, g.imageEnv = req.BuilderConfig.Config.Labels, req.BuilderConfig.Config.Env
	}
	user, err := g.assembleUser()
	if err != nil {
		return g.res, err
	}
	upload := filepath.Join(filepath.Dir(p), "upload")
	if err := emptyOrMissing(upload); err != nil {
		return g.res, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(upload)
		}
	}()
	g.srcDir, g.scriptsDir = filepath.Join(upload, "src"), filepath.Join(upload, "scripts")
	info, err := g.source(ctx)
	if err != nil {
		return g.res, err
	}
	scripts, uploaded, err := g.scripts()
	if err != nil {
		return g.res, err
	}
	env, err := g.env()
	if err != nil {
		return g.res, err
	}
	spec := g.spec(info, env, user, scripts, uploaded)
	if err := os.WriteFile(p, Render(spec), 0o644); err != nil {
		return g.res, fmt.Errorf("write %s: %w", p, err)
	}
	return g.res, nil
}

// generator is what Generate's steps share: the request, the result so far
// (its warnings grow step by step), the builder's labels and environment,
// and the context's directories.
type generator struct {
	req                Request
	res                Result
	labels             map[string]string
	imageEnv           []string
	srcDir, scriptsDir string
}

// assembleUser is the user assemble runs as; only it is checked against
// the allowed UIDs, as in s2i's dockerfile mode.
func (g *generator) assembleUser() (string, error) {
	user := g.req.AssembleUser
	if user == "" {
		user = assembleuser.Resolve("", g.labels, assembleuser.DockerfileDefault)
	}
	if err := assembleuser.Check(g.req.AllowedUIDs, g.req.Builder, user, nil, "", nil); err != nil {
		return user, err
	}
	return user, nil
}

// source puts the source into upload/src.
func (g *generator) source(ctx context.Context) (source.Info, error) {
	info, err := source.Prepare(ctx, g.req.Source, g.srcDir)
	if err != nil {
		return info, err
	}
	for _, s := range info.Skipped {
		g.res.Warnings = append(g.res.Warnings, fmt.Sprintf("skipped special file %s in the source", s))
	}
	return info, nil
}

// scripts locates assemble, run (and save-artifacts when incremental) and
// puts the external ones into upload/scripts; uploaded says there are some.
func (g *generator) scripts() (scripts map[string]s2iscripts.Script, uploaded bool, err error) {
	if err := os.MkdirAll(g.scriptsDir, 0o755); err != nil {
		return nil, false, fmt.Errorf("create %s: %w", g.scriptsDir, err)
	}
	inSource, err := s2iscripts.ListSource(g.srcDir)
	if err != nil {
		return nil, false, err
	}
	names := []string{s2iscripts.Assemble, s2iscripts.Run}
	if g.req.IncrementalFrom != "" {
		names = append(names, s2iscripts.SaveArtifacts)
	}
	scripts, warn, err := s2iscripts.Locate(s2iscripts.Input{
		ScriptsURL:      g.req.ScriptsURL,
		ImageScriptsURL: g.req.ImageScriptsURL,
		Labels:          g.labels,
		ImageEnv:        g.imageEnv,
		SourceScripts:   inSource,
		HostFileExists:  isRegularFile,
	}, names, []string{s2iscripts.Assemble, s2iscripts.Run})
	g.res.Warnings = append(g.res.Warnings, warn...)
	if err != nil {
		return nil, false, err
	}
	for _, s := range scripts {
		if !s.External() {
			continue
		}
		if err := install(s, g.srcDir, filepath.Join(g.scriptsDir, s.Name)); err != nil {
			return nil, false, err
		}
		uploaded = true
	}
	return scripts, uploaded, nil
}

// env is the build environment (-e, -E, the source's .s2i/environment)
// without the variables that hold credentials: those become build
// arguments (res.BuildArgs).
func (g *generator) env() (buildenv.Env, error) {
	env, warn, err := buildenv.Build(g.srcDir, g.req.EnvFlags, g.req.EnvFiles)
	g.res.Warnings = append(g.res.Warnings, warn...)
	if err != nil {
		return nil, err
	}
	env, g.res.BuildArgs = splitCredentials(env)
	for _, a := range g.res.BuildArgs {
		g.res.Warnings = append(g.res.Warnings, credentialWarning(a))
	}
	for _, v := range env {
		if strings.ContainsAny(v.Value, "\n\r") {
			return nil, fmt.Errorf("the value of %s has a line break, which an ENV instruction cannot hold", v.Name)
		}
	}
	return env, nil
}

// spec is what the Containerfile says, from what the steps found.
func (g *generator) spec(info source.Info, env buildenv.Env, user string, scripts map[string]s2iscripts.Script, uploaded bool) Spec {
	req := g.req
	// The builder's destination label is honoured, unlike s2i's dockerfile
	// mode: assemble finds the source where the image expects it.
	dest := s2iscripts.Destination(req.Destination, g.labels, g.imageEnv)
	lbls := imageconfig.GeneratedLabels(imageconfig.Facts{
		Source: info, BuilderName: req.Builder, Tag: req.Tag, AppName: req.AppName, Description: req.Description,
	})
	if req.ScriptsURL != "" {
		lbls[s2iscripts.LabelScriptsURL] = redact.URL(req.ScriptsURL)
	}
	if req.Destination != "" {
		lbls[s2iscripts.LabelDestination] = req.Destination
	}
	spec := Spec{
		Builder: req.Builder, Labels: lbls, Env: env, Args: g.res.BuildArgs, User: user, Destination: dest,
		UploadScripts: uploaded,
		Assemble:      scripts[s2iscripts.Assemble].PathIn(dest), AssembleExternal: scripts[s2iscripts.Assemble].External(),
		Run: scripts[s2iscripts.Run].PathIn(dest), RunExternal: scripts[s2iscripts.Run].External(),
	}
	if req.IncrementalFrom != "" {
		sa, ok := scripts[s2iscripts.SaveArtifacts]
		if !ok { // s2i trusts the image to have it
			sa = s2iscripts.Script{Name: s2iscripts.SaveArtifacts, ImagePath: "/usr/libexec/s2i/save-artifacts"}
		}
		spec.Incremental = &Incremental{From: req.IncrementalFrom, SaveArtifacts: sa.PathIn(dest), SaveArtifactsExternal: sa.External()}
	}
	return spec
}

// splitCredentials takes the variables whose values hold URL credentials
// out of env: they become build arguments, so that no secret is written to
// the Containerfile, its context or the image config.
func splitCredentials(env buildenv.Env) (buildenv.Env, []string) {
	var plain buildenv.Env
	var args []string
	for _, v := range env {
		if redact.HasCredentials(v.Value) {
			args = append(args, v.Name)
			continue
		}
		plain = append(plain, v)
	}
	return plain, args
}

// credentialWarning tells how to pass a credential-holding variable.
func credentialWarning(name string) string {
	return fmt.Sprintf("%s holds credentials: it is a build argument (ARG), not an ENV; build with "+
		"--build-arg %s=... (with podman or buildah add --omit-history: they record a RUN's build arguments in the image history)", name, name)
}

// install puts an external script into upload/scripts with mode 0755: a
// source script is moved out of the source, as s2i does; a file:// one is
// copied from the host.
func install(s s2iscripts.Script, srcDir, dst string) error {
	if s.Origin == s2iscripts.FromSource {
		if err := os.Rename(filepath.Join(srcDir, filepath.FromSlash(s.HostPath)), dst); err != nil {
			return fmt.Errorf("install script %s: %w", s.Name, err)
		}
	} else if err := copyFile(s.HostPath, dst); err != nil {
		return fmt.Errorf("install script %s from %s: %w", s.Name, s.HostPath, err)
	}
	if err := os.Chmod(dst, 0o755); err != nil {
		return fmt.Errorf("install script %s: %w", s.Name, err)
	}
	return nil
}

func copyFile(src, dst string) error {
	return copyfile.Copy(src, false, func() (*os.File, error) {
		return os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	})
}

func isRegularFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func emptyOrMissing(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s already exists: remove it first (it holds the context of an earlier --as-dockerfile)", dir)
	}
	return nil
}
