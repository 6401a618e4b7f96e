package imagebuild

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/pys2i/pys2i/imagebuild/commit"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/options/buildenv"
	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/internal/atomicfile"
	"github.com/pys2i/pys2i/internal/redact"
)

// What the steps of a split --in-place build (--step) leave in the work
// dir for the next: prepare's plan (what it read from the registry), the
// reused layer it downloaded, and assemble's new layers with what the
// image's config needs. No credential is written: the builder and the
// previous image are read by the steps that hold them, and the build env
// is kept with URL credentials masked, as the image's config has it.
const (
	planFile     = "plan.json"
	builtFile    = "built.json"
	depsBlobFile = "deps.blob"
)

// inPlacePlan is what the prepare step learned from the registry.
type inPlacePlan struct {
	// Run names this build: assemble copies it into its state, export
	// checks it, so steps of different runs are never mixed.
	Run     string        `json:"run"`
	Builder string        `json:"builder"` // pinned: transport:reference@digest
	Digest  string        `json:"digest"`
	Config  *v1.Image     `json:"config"`
	Reuse   *plannedReuse `json:"reuse,omitempty"`
}

// plannedReuse is a decided reuse of TAG's dependency layer, downloaded to
// depsBlobFile.
type plannedReuse struct {
	DiffID      digest.Digest `json:"diffID"`
	Stored      v1.Descriptor `json:"stored"`
	Fingerprint string        `json:"fingerprint"`
}

// inPlaceBuilt is what the assemble step made, for the export step.
type inPlaceBuilt struct {
	Run       string       `json:"run"` // the plan's
	Env       []string     `json:"env"` // the build env, URL credentials masked
	Source    source.Info  `json:"source"`
	User      User         `json:"user"`
	Home      string       `json:"home"`
	Epoch     time.Time    `json:"epoch"`
	Recorded  string       `json:"recorded,omitempty"`
	RunScript string       `json:"runScript"`
	Meta      []byte       `json:"meta,omitempty"`
	Outside   commit.Layer `json:"outside"` // Path relative to the work dir
	HomeLayer commit.Layer `json:"homeLayer"`
	SBOM      commit.Layer `json:"sbom"`
}

// savePlan ends the prepare step.
func (b *build) savePlan(context.Context) error {
	ref := b.ip.builder.Ref
	run := make([]byte, 8)
	if _, err := rand.Read(run); err != nil {
		return err
	}
	p := inPlacePlan{Run: hex.EncodeToString(run), Builder: ref.Transport().Name() + ":" + ref.StringWithinTransport(), Digest: b.baseDigest, Config: b.baseCfg}
	if r := b.reuse; r != nil {
		p.Reuse = &plannedReuse{DiffID: r.layer.DiffID, Stored: *r.layer.Stored, Fingerprint: r.fingerprint}
	}
	return writeState(b.ip.work, planFile, p)
}

// loadPlan starts the assemble and export steps.
func (b *build) loadPlan() error {
	var p inPlacePlan
	if err := readState(b.ip.work, planFile, "prepare", &p); err != nil {
		return err
	}
	if p.Config == nil || p.Builder == "" {
		return fmt.Errorf("--step %s: %s in %s is incomplete: run the prepare step again", b.o.InPlaceStep, planFile, b.ip.work)
	}
	b.ip.plannedBuilder, b.ip.run = p.Builder, p.Run
	b.useBuilder(p.Config, p.Digest)
	if r := p.Reuse; r != nil {
		stored := r.Stored
		b.reuse = &depsReuse{
			layer:       commit.Layer{DiffID: r.DiffID, Size: stored.Size, Path: filepath.Join(b.ip.work, depsBlobFile), Stored: &stored},
			fingerprint: r.Fingerprint,
		}
	}
	return nil
}

// openPlannedBuilder opens, in the export step, the builder prepare read:
// by the same digest.
func (b *build) openPlannedBuilder(ctx context.Context) error {
	builder, err := b.im.OpenRemote(ctx, b.ip.plannedBuilder)
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	b.onClose(func(err error) error { return errors.Join(err, builder.Close()) })
	if builder.Digest != b.baseDigest {
		return fmt.Errorf("builder %s: its digest is %s, the prepare step read %s", b.ip.plannedBuilder, builder.Digest, b.baseDigest)
	}
	b.ip.builder, b.baseSrc = builder, builder.Source
	return nil
}

// collectAndSave ends the assemble step: the layers stay in the work dir.
func (b *build) collectAndSave(ctx context.Context) error {
	c, err := b.collectWithSBOM(ctx)
	if err != nil {
		return err
	}
	env := b.env.Strings()
	for i, kv := range env {
		env[i] = redact.URL(kv)
	}
	built := inPlaceBuilt{
		Run: b.ip.run, Env: env, Source: b.info, User: b.user, Home: b.home, Epoch: b.epoch, Recorded: b.recorded,
		RunScript: c.runScript, Meta: c.meta, Outside: relLayer(c.layers.Outside, b.ip.work), HomeLayer: relLayer(c.layers.Home, b.ip.work),
		SBOM: relLayer(*c.layers.Generated, b.ip.work),
	}
	return writeState(b.ip.work, builtFile, built)
}

// loadAndWrite is the export step: the image from the work dir, written.
func (b *build) loadAndWrite(ctx context.Context) error {
	var built inPlaceBuilt
	if err := readState(b.ip.work, builtFile, "assemble", &built); err != nil {
		return err
	}
	if built.Run != b.ip.run {
		return fmt.Errorf("--step export: %s in %s is of another run than %s: run the assemble step again", builtFile, b.ip.work, planFile)
	}
	env := buildenv.Env{}
	for _, kv := range built.Env {
		name, val, _ := strings.Cut(kv, "=")
		env = append(env, buildenv.Var{Name: name, Value: val})
	}
	b.env, b.info, b.user, b.home, b.epoch, b.recorded = env, built.Source, built.User, built.Home, built.Epoch, built.Recorded
	b.cStart = time.Now()
	outside, home, sbomLayer := absLayer(built.Outside, b.ip.work), absLayer(built.HomeLayer, b.ip.work), absLayer(built.SBOM, b.ip.work)
	for _, l := range []commit.Layer{outside, home, sbomLayer} {
		if err := checkLayerFile(l); err != nil {
			return fmt.Errorf("--step export: %w: run the assemble step again", err)
		}
	}
	c := collected{
		layers: commit.Input{Base: b.baseSrc, Outside: outside, Home: home, HomeDir: b.home, Deps: b.reuse.reused(),
			Generated: &sbomLayer},
		baseCfg: b.baseCfg, runScript: built.RunScript, meta: built.Meta, deps: b.reuse,
	}
	return b.write(ctx, c)
}

// checkLayerFile checks that a layer file is the one recorded: a step
// killed while writing it, or a later one, leaves another.
func checkLayerFile(l commit.Layer) error {
	f, err := os.Open(l.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	v := l.DiffID.Verifier()
	if _, err := f.WriteTo(v); err != nil {
		return fmt.Errorf("layer %s: %w", l.Path, err)
	}
	if !v.Verified() {
		return fmt.Errorf("layer %s is not %s", l.Path, l.DiffID)
	}
	return nil
}

func relLayer(l commit.Layer, dir string) commit.Layer {
	if rel, err := filepath.Rel(dir, l.Path); err == nil {
		l.Path = rel
	}
	return l
}

func absLayer(l commit.Layer, dir string) commit.Layer {
	l.Path = filepath.Join(dir, l.Path)
	return l
}

// clearState removes, as a step starts, what it and the later steps write,
// so that a step killed halfway leaves nothing the next would trust.
func clearState(dir string, step options.InPlaceStep) error {
	names := []string{builtFile, "layers"}
	if step == options.StepPrepare {
		names = append(names, planFile, depsBlobFile)
	}
	for _, n := range names {
		if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("--work-dir: %w", err)
		}
	}
	return nil
}

// writeState writes v as name in dir, whole or not at all.
func writeState(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := atomicfile.Write(filepath.Join(dir, name), b, 0o644); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// readState reads name from dir into v; the error names the step that
// writes it.
func readState(dir, name, writer string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no %s in %s: run the %s step first, with the same --work-dir", name, dir, writer)
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s in %s: %w: run the %s step again", name, dir, err, writer)
	}
	return nil
}
