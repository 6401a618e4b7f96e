package dockerfile

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	res = Result{Path: p}
	var labels map[string]string
	var imageEnv []string
	if req.BuilderConfig != nil {
		labels, imageEnv = req.BuilderConfig.Config.Labels, req.BuilderConfig.Config.Env
	}
	user := req.AssembleUser
	if user == "" {
		user = assembleuser.Resolve("", labels, assembleuser.DockerfileDefault)
	}
	// Only the assemble user is checked, as in s2i's dockerfile mode.
	if err := assembleuser.Check(req.AllowedUIDs, req.Builder, user, nil, "", nil); err != nil {
		return res, err
	}
	dir := filepath.Dir(p)
	upload := filepath.Join(dir, "upload")
	if err := emptyOrMissing(upload); err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(upload)
		}
	}()
	srcDir, scriptsDir := filepath.Join(upload, "src"), filepath.Join(upload, "scripts")
	info, err := source.Prepare(ctx, req.Source, srcDir)
	if err != nil {
		return res, err
	}
	for _, s := range info.Skipped {
		res.Warnings = append(res.Warnings, fmt.Sprintf("skipped special file %s in the source", s))
	}
	if err := os.MkdirAll(scriptsDir, 0o755); err != nil {
		return res, fmt.Errorf("create %s: %w", scriptsDir, err)
	}
	inSource, err := s2iscripts.ListSource(srcDir)
	if err != nil {
		return res, err
	}
	names := []string{s2iscripts.Assemble, s2iscripts.Run}
	if req.IncrementalFrom != "" {
		names = append(names, s2iscripts.SaveArtifacts)
	}
	scripts, warn, err := s2iscripts.Locate(s2iscripts.Input{
		ScriptsURL:      req.ScriptsURL,
		ImageScriptsURL: req.ImageScriptsURL,
		Labels:          labels,
		ImageEnv:        imageEnv,
		SourceScripts:   inSource,
		HostFileExists:  isRegularFile,
	}, names, []string{s2iscripts.Assemble, s2iscripts.Run})
	res.Warnings = append(res.Warnings, warn...)
	if err != nil {
		return res, err
	}
	uploaded := false
	for _, s := range scripts {
		if !s.External() {
			continue
		}
		if err := install(s, srcDir, filepath.Join(scriptsDir, s.Name)); err != nil {
			return res, err
		}
		uploaded = true
	}
	env, warn, err := buildenv.Build(srcDir, req.EnvFlags, req.EnvFiles)
	res.Warnings = append(res.Warnings, warn...)
	if err != nil {
		return res, err
	}
	env, res.BuildArgs = splitCredentials(env)
	for _, a := range res.BuildArgs {
		res.Warnings = append(res.Warnings, credentialWarning(a))
	}
	for _, v := range env {
		if strings.ContainsAny(v.Value, "\n\r") {
			return res, fmt.Errorf("the value of %s has a line break, which an ENV instruction cannot hold", v.Name)
		}
	}
	// The builder's destination label is honoured, unlike s2i's dockerfile
	// mode: assemble finds the source where the image expects it.
	dest := s2iscripts.Destination(req.Destination, labels, imageEnv)
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
		Builder: req.Builder, Labels: lbls, Env: env, Args: res.BuildArgs, User: user, Destination: dest,
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
	if err := os.WriteFile(p, Render(spec), 0o644); err != nil {
		return res, fmt.Errorf("write %s: %w", p, err)
	}
	return res, nil
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
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
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
