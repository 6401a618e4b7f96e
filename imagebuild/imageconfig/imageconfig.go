// Package imageconfig computes the configuration of a built image from its
// builder's, as s2i commits it (daemon mode): a pure function, so the same
// inputs give the same bytes.
package imageconfig

import (
	"encoding/json"
	"fmt"
	"maps"
	"time"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/pys2i/pys2i/imagebuild/source"
	"github.com/pys2i/pys2i/internal/envlist"
	"github.com/pys2i/pys2i/internal/redact"
)

// Label names s2i generates (namespace io.openshift.s2i.).
const (
	LabelDisplayName   = "io.k8s.display-name"
	LabelDescription   = "io.k8s.description"
	LabelBuildImage    = "io.openshift.s2i.build.image"
	LabelCommitAuthor  = "io.openshift.s2i.build.commit.author"
	LabelCommitDate    = "io.openshift.s2i.build.commit.date"
	LabelCommitID      = "io.openshift.s2i.build.commit.id"
	LabelCommitRef     = "io.openshift.s2i.build.commit.ref"
	LabelCommitMessage = "io.openshift.s2i.build.commit.message"
	LabelSourceLoc     = "io.openshift.s2i.build.source-location"
	LabelContextDir    = "io.openshift.s2i.build.source-context-dir"
)

// MaxLabelBytes is s2i's limit on the total length of label keys and values.
const MaxLabelBytes = 10240

// MetadataPath is where assemble may write extra labels; s2i reads this fixed
// path whatever the destination.
const MetadataPath = "/tmp/.s2i/image_metadata.json"

// Facts are what the build knows that the builder's config does not.
type Facts struct {
	RunScript string   // absolute path of run inside the image: the Cmd
	BuildEnv  []string // NAME=VALUE, in build order
	// Source is what source.Prepare reported; credentials in its Location
	// are masked again here.
	Source        source.Info
	BuilderName   string // the builder reference as given
	BuilderDigest string // the builder's manifest digest
	Tag           string // the output tag, default io.k8s.display-name
	AppName       string // --application-name
	Description   string // --description
	ExtraLabels   map[string]string
	Created       time.Time
	// Metadata is the content of MetadataPath if assemble wrote it, else nil.
	Metadata []byte
}

// Build returns the new image config and the OCI manifest annotations
// (org.opencontainers.image.*). RootFS and History are the builder's: the
// commit appends its layers and their history entries.
//
// As s2i: Cmd is the run script (exec form), Entrypoint, User, WorkingDir
// and the rest of the config are the builder's; labels are the builder's,
// then the generated ones, then ExtraLabels, then the image_metadata.json
// ones, later winning, at most MaxLabelBytes in all, URL credentials masked
// in every value. Env is the builder's
// with the build env over it; unlike s2i, credentials in URLs (user:pass@)
// are masked in committed values: an image config is public, and the build
// itself saw the real value.
func Build(base v1.Image, f Facts) (v1.Image, map[string]string, error) {
	meta, err := MetadataLabels(f.Metadata)
	if err != nil {
		return v1.Image{}, nil, err
	}
	out := base
	created := f.Created.UTC()
	out.Created = &created
	cfg := base.Config
	cfg.Cmd = []string{f.RunScript}
	cfg.Entrypoint = clone(base.Config.Entrypoint)
	cfg.Env = mergeEnv(base.Config.Env, f.BuildEnv)
	labels := maps.Clone(base.Config.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, GeneratedLabels(f))
	maps.Copy(labels, f.ExtraLabels)
	maps.Copy(labels, meta)
	for k, v := range labels {
		labels[k] = redact.URL(v)
	}
	if n := labelBytes(labels); n > MaxLabelBytes {
		return v1.Image{}, nil, fmt.Errorf("the labels take %d bytes, more than the limit of %d", n, MaxLabelBytes)
	}
	cfg.Labels = labels
	cfg.ExposedPorts = maps.Clone(base.Config.ExposedPorts)
	cfg.Volumes = maps.Clone(base.Config.Volumes)
	out.Config = cfg
	out.RootFS.DiffIDs = clone(base.RootFS.DiffIDs)
	out.History = clone(base.History)
	return out, Annotations(f), nil
}

// GeneratedLabels returns s2i's generated labels; empty values are left out.
func GeneratedLabels(f Facts) map[string]string {
	name := f.AppName
	if name == "" {
		name = f.Tag
	}
	all := map[string]string{
		LabelDisplayName:   name,
		LabelDescription:   f.Description,
		LabelBuildImage:    f.BuilderName,
		LabelCommitAuthor:  f.Source.Author,
		LabelCommitDate:    f.Source.Date,
		LabelCommitID:      f.Source.Commit,
		LabelCommitRef:     f.Source.Ref,
		LabelCommitMessage: f.Source.Message,
		LabelSourceLoc:     redact.URL(f.Source.Location),
		LabelContextDir:    f.Source.ContextDir,
	}
	for k, v := range all {
		if v == "" {
			delete(all, k)
		}
	}
	return all
}

// Annotations returns the OCI annotations of the built image's manifest.
func Annotations(f Facts) map[string]string {
	a := map[string]string{
		v1.AnnotationCreated:         f.Created.UTC().Format(time.RFC3339),
		v1.AnnotationSource:          redact.URL(f.Source.Location),
		v1.AnnotationRevision:        f.Source.Commit,
		v1.AnnotationBaseImageName:   f.BuilderName,
		v1.AnnotationBaseImageDigest: f.BuilderDigest,
	}
	for k, v := range a {
		if v == "" {
			delete(a, k)
		}
	}
	return a
}

// MetadataLabels parses image_metadata.json: {"labels":[{"k":"v"},...]}. No
// content, or no "labels" key, is no labels; any other shape is an error, as
// in s2i.
func MetadataLabels(b []byte) (map[string]string, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", MetadataPath, err)
	}
	raw, ok := doc["labels"]
	if !ok {
		return nil, nil
	}
	var list []map[string]string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%s: \"labels\" must be a list of objects with string values: %w", MetadataPath, err)
	}
	out := map[string]string{}
	for _, m := range list {
		for k, v := range m {
			if k == "" {
				return nil, fmt.Errorf("%s: empty label name", MetadataPath)
			}
			out[k] = v
		}
	}
	return out, nil
}

// mergeEnv returns base with env over it: a name already in base keeps its
// place and takes the new value; new names follow in build order. Values
// have URL credentials masked.
func mergeEnv(base, env []string) []string {
	out := envlist.Merge(base, env)
	for i, kv := range out {
		out[i] = redact.URL(kv)
	}
	return out
}

func labelBytes(l map[string]string) int {
	n := 0
	for k, v := range l {
		n += len(k) + len(v)
	}
	return n
}

func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T{}, s...)
}
