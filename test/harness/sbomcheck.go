package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/pys2i/pys2i/test/world"
)

// ToolsBinVar names the tools venv's bin folder in the environment
// (`eval "$(bin/world env)"` sets it).
const ToolsBinVar = "PYS2I_TEST_TOOLS_BIN"

// Validators runs real SBOM consumers from the world's tools venv: the
// SPDX project's pyspdxtools (PyPI spdx-tools) and cyclonedx-python-lib's
// JsonStrictValidator with its bundled schemas. They run offline: in a
// network namespace of their own (unshare --net: no interface but a down
// loopback, so nothing can be downloaded), with a scratch HOME and no
// variable of the caller's environment (no proxies, no PYTHON*).
type Validators struct {
	Bin string // the tools venv's bin folder: pyspdxtools, python
}

// FindValidators finds the validators through PYS2I_TEST_TOOLS_BIN, else
// in the world at its root (PYS2I_WORLD, as make test finds it); no world,
// or a venv without them, is an error, never a pass.
func FindValidators() (Validators, error) {
	bin := os.Getenv(ToolsBinVar)
	if bin == "" {
		m, err := world.Load(world.DefaultRoot())
		if err != nil {
			return Validators{}, fmt.Errorf("SBOM validators: %w (build the test world: make world)", err)
		}
		if m.Tools == "" {
			return Validators{}, fmt.Errorf("SBOM validators: the test world under %s has no tools venv: run make world", m.Root)
		}
		bin = filepath.Join(m.Tools, "bin")
	}
	v := Validators{Bin: bin}
	return v, v.check()
}

// Validators of the world's tools venv.
func (w *World) Validators() Validators { return Validators{Bin: w.ToolsBin()} }

func (v Validators) check() error {
	if v.Bin == "" {
		return errors.New("SBOM validators: no tools venv bin folder")
	}
	for _, name := range []string{"pyspdxtools", "python"} {
		if _, err := os.Stat(filepath.Join(v.Bin, name)); err != nil {
			return fmt.Errorf("SBOM validators: the tools venv has no %s (%v): rebuild the test world (make world)", name, err)
		}
	}
	return nil
}

// ValidateSPDX checks an SPDX 2.3 JSON document with pyspdxtools, found by
// FindValidators.
func ValidateSPDX(ctx context.Context, path string) error {
	v, err := FindValidators()
	if err != nil {
		return err
	}
	return v.ValidateSPDX(ctx, path)
}

// ValidateCycloneDX checks a CycloneDX 1.6 JSON document with
// cyclonedx-python-lib, found by FindValidators.
func ValidateCycloneDX(ctx context.Context, path string) error {
	v, err := FindValidators()
	if err != nil {
		return err
	}
	return v.ValidateCycloneDX(ctx, path)
}

// ValidateSPDX runs `pyspdxtools --version SPDX-2.3 -i FILE`: the
// document must parse and validate as SPDX 2.3 (a document saying
// SPDX-2.2 is an error). The error holds pyspdxtools' messages. Besides a
// non-zero exit, any ERROR line it prints counts (spdx-tools 0.8 exits 1
// on an invalid document; older releases printed the issues and exited 0).
func (v Validators) ValidateSPDX(ctx context.Context, path string) error {
	if err := v.check(); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("spdx: %w", err)
	}
	scratch, err := os.MkdirTemp("", "pys2i-spdxcheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	// pyspdxtools picks the parser by the file's name.
	if !strings.HasSuffix(abs, ".json") {
		b, err := os.ReadFile(abs)
		if err != nil {
			return err
		}
		abs = filepath.Join(scratch, "document.spdx.json")
		if err := os.WriteFile(abs, b, 0o644); err != nil {
			return err
		}
	}
	out, err := v.run(ctx, scratch, filepath.Join(v.Bin, "pyspdxtools"), "--version", "SPDX-2.3", "-i", abs)
	if out == "" && err != nil {
		return fmt.Errorf("spdx: %s: pyspdxtools: %w", path, err)
	}
	if err != nil {
		return fmt.Errorf("spdx: %s is invalid (pyspdxtools: %v):\n%s", path, err, out)
	}
	if spdxComplained(out) {
		return fmt.Errorf("spdx: %s is invalid (pyspdxtools exited 0 but says):\n%s", path, out)
	}
	return nil
}

// spdxComplained reports whether pyspdxtools' output (logging's
// "LEVEL:root:message" lines; nothing for a valid document) holds an
// error or a finding.
func spdxComplained(out string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "ERROR:") || strings.HasPrefix(line, "CRITICAL:") ||
			strings.Contains(line, "The document is invalid") || strings.Contains(line, "issues while parsing") {
			return true
		}
	}
	return false
}

// cyclonedxCheck validates argv[1] three ways, printing one line a
// finding and exiting 1 if there is any: the CycloneDX 1.6 JSON schema,
// strict (JsonStrictValidator: no unknown properties; the library's
// bundled schemas, no $ref leaves the registry); the library's own model
// (Bom.from_json: purls must parse; Bom.validate: every dependency ref
// names a known bom-ref), only once the schema passes; and bom-ref
// uniqueness (the spec's MUST, which neither checks: the schema sees only
// identical array items).
const cyclonedxCheck = `
import json, sys, warnings
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

text = open(sys.argv[1], encoding="utf-8").read()
try:
    json.loads(text)
except ValueError as e:
    print("json: %s" % e)
    sys.exit(1)
found = []
errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
for e in errors or ():
    d = e.data
    where = d.json_path if hasattr(d, "json_path") else str(getattr(d, "path", ""))
    found.append("schema: %s: %s" % (where, getattr(d, "message", str(d))))
    # oneOf, anyOf: why each branch failed (enums cut short)
    def leaves(err):
        for c in err.context or ():
            if c.context:
                leaves(c)
            else:
                m = c.message
                found.append("  - %s: %s" % (c.json_path, m if len(m) < 160 else m[:150] + " ..."))
    leaves(d)
if not found:
    doc = json.loads(text)
    refs = {}
    def walk(x, path):
        if isinstance(x, dict):
            r = x.get("bom-ref")
            if isinstance(r, str):
                refs.setdefault(r, []).append(path)
            for k, y in x.items():
                walk(y, path + "." + k)
        elif isinstance(x, list):
            for i, y in enumerate(x):
                walk(y, "%s[%d]" % (path, i))
    walk(doc, "$")
    for r, paths in sorted(refs.items()):
        if len(paths) > 1:
            found.append("bom-ref: %r is not unique: %s" % (r, ", ".join(paths)))
    try:
        from cyclonedx.model.bom import Bom
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Bom.from_json(doc).validate()
    except Exception as e:
        found.append("model: %s: %s" % (type(e).__name__, e))
for f in found:
    print(f)
sys.exit(1 if found else 0)
`

// ValidateCycloneDX checks a CycloneDX 1.6 JSON document with the tools
// venv's cyclonedx-python-lib (see cyclonedxCheck); the error holds its
// findings, one a line.
func (v Validators) ValidateCycloneDX(ctx context.Context, path string) error {
	if err := v.check(); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("cyclonedx: %w", err)
	}
	scratch, err := os.MkdirTemp("", "pys2i-cdxcheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	out, err := v.run(ctx, scratch, filepath.Join(v.Bin, "python"), "-I", "-c", cyclonedxCheck, abs)
	if out == "" && err != nil {
		return fmt.Errorf("cyclonedx: %s: %w", path, err)
	}
	if err != nil && strings.HasPrefix(out, "Traceback") {
		// Not a finding: the check itself broke (no json-validation extra: MissingOptionalDependencyException).
		return fmt.Errorf("cyclonedx: cannot check %s with the tools venv's cyclonedx-python-lib[json-validation] (%v):\n%s", path, err, out)
	}
	if err != nil {
		return fmt.Errorf("cyclonedx: %s is invalid (%v):\n%s", path, err, out)
	}
	return nil
}

// run runs a validator offline (see Validators) in dir, returning its
// combined output.
func (v Validators) run(ctx context.Context, dir, name string, args ...string) (string, error) {
	unshare := []string{"--net"}
	if os.Geteuid() != 0 {
		unshare = append(unshare, "--map-root-user")
	}
	cmd := exec.CommandContext(ctx, "unshare", append(append(unshare, "--", name), args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + v.Bin + ":/usr/bin:/bin", "HOME=" + dir, "LC_ALL=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := strings.TrimSpace(out.String())
	if err != nil && strings.HasPrefix(text, "unshare:") {
		return "", fmt.Errorf("cannot run %s without network: %s", filepath.Base(name), text)
	}
	return text, err
}
