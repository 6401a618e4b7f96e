// Package dockerfile implements --as-dockerfile: it writes a Containerfile
// and its build context (upload/src, upload/scripts) as s2i's dockerfile
// strategy does, so that podman or buildah can build the application image.
// Unlike s2i's, the output is reproducible: labels are sorted.
package dockerfile

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/pys2i/pys2i/imagebuild/options/buildenv"
)

// Spec is what the Containerfile says.
type Spec struct {
	Builder string            // FROM
	Labels  map[string]string // LABEL, written sorted
	Env     buildenv.Env      // ENV, in order
	// Args are variables whose values hold URL credentials: declared as
	// ARG (no default) for assemble's RUN, so their values come from
	// --build-arg and are never written to the Containerfile or the image
	// config.
	Args        []string
	User        string // the assemble user; no USER line for "root"
	Destination string // where upload/ goes: DEST/src, DEST/scripts
	// UploadScripts says upload/scripts holds override scripts to COPY.
	UploadScripts bool
	// Assemble and Run are the scripts' paths in the image;
	// AssembleExternal and RunExternal say they come from upload/scripts.
	Assemble, Run                 string
	AssembleExternal, RunExternal bool
	// Incremental adds s2i's "cached" stage: save-artifacts of the previous
	// image (From) restored into DEST/artifacts before assemble.
	Incremental *Incremental
}

// Incremental is the previous image and its save-artifacts script.
type Incremental struct {
	From                  string
	SaveArtifacts         string // path in the image
	SaveArtifactsExternal bool   // from upload/scripts/save-artifacts
}

// artifactsTar is fixed at /tmp in s2i, whatever the destination.
const artifactsTar = "/tmp/artifacts.tar"

// Render returns the Containerfile, in s2i's fixed form.
func Render(s Spec) []byte {
	var c containerfile
	// --chown takes the uid alone: "1001:0" as a user would make "1001:0:0".
	uid, _, _ := strings.Cut(s.User, ":")
	user := sanitize(uid)
	if s.Incremental != nil {
		c.cachedStage(s, user)
	}
	c.from(s)
	c.copies(s, user)
	c.assemble(s)
	return []byte(c.String())
}

// containerfile is the text being written.
type containerfile struct{ strings.Builder }

func (c *containerfile) w(format string, args ...any) { fmt.Fprintf(&c.Builder, format, args...) }

// cachedStage is s2i's "cached" stage: the previous image's save-artifacts
// output, in artifactsTar.
func (c *containerfile) cachedStage(s Spec, user string) {
	inc := s.Incremental
	c.w("FROM %s as cached\n", inc.From)
	if inc.SaveArtifactsExternal {
		c.w("# Copying in override save-artifacts script\n")
		c.w("COPY --chown=%s:0 upload/scripts/save-artifacts %s\n", user, sanitize(inc.SaveArtifacts))
	} else {
		c.w("# Save-artifacts script sourced from builder image based on user input or image metadata.\n")
	}
	if s.User != "" && s.User != "root" {
		c.w("USER %s\n", sanitize(s.User))
	}
	c.w("RUN if [ -s %[1]s ]; then %[1]s > %[2]s; else touch %[2]s; fi\n", sanitize(inc.SaveArtifacts), artifactsTar)
}

// from is the FROM line, the sorted LABELs, the ENV line and the ARGs.
func (c *containerfile) from(s Spec) {
	c.w("FROM %s\n", s.Builder)
	if len(s.Labels) > 0 {
		keys := make([]string, 0, len(s.Labels))
		for k := range s.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i == 0 {
				c.w("LABEL ")
			} else {
				c.w(" \\\n      ")
			}
			c.w("%q=%q", k, s.Labels[k])
		}
		c.w("\n")
	}
	// s2i writes this line even with no variables (then it is empty).
	for i, v := range s.Env {
		if i == 0 {
			c.w("ENV ")
		} else {
			c.w(" \\\n    ")
		}
		c.w("%s=\"%s\"", v.Name, escapeEnv(v.Value))
	}
	c.w("\n")
	for _, a := range s.Args {
		c.w("# %s holds credentials: pass it with --build-arg %s=... (and, with podman or buildah, --omit-history: they record a RUN's build arguments in the image history)\n", a, a)
		c.w("ARG %s\n", a)
	}
}

// copies are the COPY lines: the cached stage's artifacts, the override
// scripts, the source.
func (c *containerfile) copies(s Spec, user string) {
	if s.Incremental != nil {
		c.w("COPY --chown=%[1]s:0 --from=cached %[2]s %[2]s\n", user, artifactsTar)
	}
	if s.UploadScripts {
		c.w("# Copying in override assemble/run scripts\n")
		c.w("COPY --chown=%s:0 upload/scripts %s\n", user, sanitize(path.Join(s.Destination, "scripts")))
	}
	c.w("# Copying in source code\n")
	c.w("COPY --chown=%s:0 upload/src %s\n", user, sanitize(path.Join(s.Destination, "src")))
}

// assemble is USER, the artifacts' extraction, RUN assemble and CMD run.
func (c *containerfile) assemble(s Spec) {
	if s.User != "" && s.User != "root" {
		c.w("USER %s\n", sanitize(s.User))
	}
	if s.Incremental != nil {
		c.w("# Extract artifact content\n")
		c.w("RUN if [ -s %[1]s ]; then mkdir -p %[2]s; tar -xf %[1]s -C %[2]s; fi && \\\n", artifactsTar, sanitize(path.Join(s.Destination, "artifacts")))
		c.w("    rm %s\n", artifactsTar)
	}
	if !s.AssembleExternal {
		c.w("# Assemble script sourced from builder image based on user input or image metadata.\n")
		c.w("# If this file does not exist in the image, the build will fail.\n")
	}
	c.w("RUN %s\n", sanitize(s.Assemble))
	if !s.RunExternal {
		c.w("# Run script sourced from builder image based on user input or image metadata.\n")
		c.w("# If this file does not exist in the image, the build will fail.\n")
	}
	c.w("CMD %s\n", sanitize(s.Run))
}

// sanitize keeps a value on one line, as s2i's does.
func sanitize(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }

// escapeEnv escapes $, " and \ so an ENV value is taken literally.
func escapeEnv(v string) string {
	var b strings.Builder
	for _, r := range v {
		if strings.ContainsRune(`$"\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
