// Package runtimeimage decides what an extended build (--runtime-image)
// copies from the builder container onto the runtime image, and where, as
// pure functions: s2i's -a/--runtime-artifact and
// io.openshift.s2i.assemble-input-files rules, else pys2i's default of
// $APP_ROOT to the same path (what the seed's multi-stage recipe copies
// with COPY --from=builder $APP_ROOT $APP_ROOT), and how the copies split
// into the dependency layer and the application ($HOME) layer.
package runtimeimage

import (
	"fmt"
	"path"
	"strings"

	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
)

// Labels of the runtime image that s2i reads.
const (
	LabelInputFiles          = "io.openshift.s2i.assemble-input-files"
	LabelAssembleRuntimeUser = "io.openshift.s2i.assemble-runtime-user"
)

// Copy is one artifact: Source in the builder container, copied to Dest
// in the runtime image (both absolute and clean).
type Copy struct {
	Source, Dest string
}

// Origin says where the list of copies came from, for the build's log.
type Origin string

const (
	FromFlag    Origin = "--runtime-artifact"
	FromLabel   Origin = "label " + LabelInputFiles
	FromAppRoot Origin = "$APP_ROOT"
)

// Plan returns the copies: the -a flags if any, else the runtime image's
// io.openshift.s2i.assemble-input-files label (";"-separated src[:dst]),
// else $APP_ROOT (the builder's, default /opt/app-root) to the same path.
// As in s2i, src[:dst] puts src's last element under WORKDIR/dst (dst
// relative, not leaving WORKDIR; WORKDIR "" is "/").
func Plan(flag []options.Artifact, labels map[string]string, builderEnv []string, workDir string) ([]Copy, Origin, error) {
	list, origin := flag, FromFlag
	if len(list) == 0 {
		if v := strings.TrimSpace(labels[LabelInputFiles]); v != "" {
			l, err := options.ParseArtifacts([]string{v})
			if err != nil {
				// ParseArtifacts speaks of --runtime-artifact; the label is the input here.
				return nil, FromLabel, fmt.Errorf("the runtime image's label %s=%q: %s", LabelInputFiles, v,
					strings.TrimPrefix(err.Error(), "invalid --runtime-artifact "))
			}
			list, origin = l, FromLabel
		}
	}
	if len(list) == 0 {
		root := envlist.Get(builderEnv, "APP_ROOT")
		if root == "" {
			root = contract.DefaultAppRoot
		}
		root = path.Clean(root)
		if !path.IsAbs(root) || root == "/" {
			return nil, FromAppRoot, fmt.Errorf("the builder's APP_ROOT=%q cannot be copied to the runtime image: it must be an absolute directory other than /; use --runtime-artifact", root)
		}
		return []Copy{{Source: root, Dest: root}}, FromAppRoot, nil
	}
	if workDir == "" || !path.IsAbs(workDir) {
		workDir = "/"
	}
	var out []Copy
	for _, a := range list {
		src := path.Clean(a.Source)
		if src == "/" {
			return nil, origin, fmt.Errorf("runtime artifact %q: copying the whole file system is not supported", a.Source)
		}
		out = append(out, Copy{Source: src, Dest: path.Join(workDir, a.Destination, path.Base(src))})
	}
	return out, origin, nil
}

// Part is one tree of a layer: Source (in the builder) written at Dest,
// leaving out the Exclude paths (absolute, in the builder, under Source).
type Part struct {
	Source, Dest string
	Exclude      []string
}

// Split sorts the copies into the dependency layer (what is outside home
// in the builder) and the application layer (home and below), as the
// normal build splits the container's changes, so that a later build can
// reuse the first.
func Split(copies []Copy, home string) (outside, homeParts []Part) {
	home = path.Clean(home)
	for _, c := range copies {
		switch {
		case within(c.Source, home):
			homeParts = append(homeParts, Part{Source: c.Source, Dest: c.Dest})
		case within(home, c.Source):
			outside = append(outside, Part{Source: c.Source, Dest: c.Dest, Exclude: []string{home}})
			rel := strings.TrimPrefix(home, c.Source)
			homeParts = append(homeParts, Part{Source: home, Dest: path.Join(c.Dest, rel)})
		default:
			outside = append(outside, Part{Source: c.Source, Dest: c.Dest})
		}
	}
	return outside, homeParts
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// Parents returns the directories above each copy's Dest that exists
// reports missing in the runtime image, shallowest first, each once: the
// layer must create them.
func Parents(copies []Copy, exists func(dir string) bool) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range copies {
		var chain []string
		for d := path.Dir(c.Dest); d != "/" && d != "."; d = path.Dir(d) {
			chain = append([]string{d}, chain...)
		}
		for _, d := range chain {
			if !seen[d] && !exists(d) {
				out = append(out, d)
			}
			seen[d] = true
		}
	}
	return out
}
