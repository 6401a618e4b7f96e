package wheel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// probeScript asks the interpreter pip runs under, once, everything pip
// would decide before it downloads: its options as parsed from the command
// line, its configuration files and PIP_* variables; the interpreter's tags in
// pip's order; each requirement's name, specifier and markers (pip's vendored
// packaging); what is installed; pip's install scheme; and the script maker's
// shebangs and template. Pip's answers, not a reimplementation of them.
const probeScript = `
import json, os, sys
inp = json.load(sys.stdin)
out = {}
import pip
out["pip_version"] = pip.__version__
from pip._internal.commands import create_command
cmd = create_command("install")
options, _ = cmd.parse_args(inp["args"])
from pip._internal.models.target_python import TargetPython
tp = TargetPython()
out["tags"] = [str(t) for t in (tp.get_sorted_tags() if hasattr(tp, "get_sorted_tags") else tp.get_tags())]
fc = getattr(options, "format_control", None)
o = {}
for k in ("index_url", "extra_index_urls", "no_index", "find_links", "trusted_hosts", "cert",
          "client_cert", "proxy", "compile", "target_dir", "prefix_path", "root_path",
          "use_user_site", "isolated_mode", "ignore_installed", "force_reinstall", "upgrade",
          "ignore_requires_python", "dry_run", "keyring_provider", "require_hashes", "src_dir", "editables",
          "global_options", "config_settings", "platforms", "python_version", "implementation", "abis"):
    v = getattr(options, k, None)
    o[k] = v if isinstance(v, (str, bool, int, list, type(None))) else str(v)
o["no_binary"] = sorted(fc.no_binary) if fc else []
out["options"] = o
out["prefix"] = sys.prefix
out["in_venv"] = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
out["pycache_prefix"] = getattr(sys, "pycache_prefix", None)
out["python_version"] = ".".join(str(p) for p in sys.version_info[:3])
out["executable"] = sys.executable
ca = options.cert or os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
if not ca:
    from pip._vendor import certifi
    ca = certifi.where()
out["ca_bundle"] = ca
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name
from pip._internal.metadata import get_default_environment
from pip._internal.locations import get_scheme
env = get_default_environment()
reqs = []
for line in inp["reqs"]:
    r = {"line": line}
    try:
        q = Requirement(line)
    except Exception as e:
        r["error"] = str(e)
        reqs.append(r)
        continue
    r["name"] = q.name
    r["canonical"] = canonicalize_name(q.name)
    r["url"] = q.url or ""
    r["specifier"] = [[s.operator, s.version] for s in q.specifier]
    r["marker_ok"] = q.marker is None or q.marker.evaluate({"extra": ""})
    d = env.get_distribution(r["canonical"])
    r["installed"] = str(d.version) if d is not None else None
    r["installed_ok"] = d is not None and q.specifier.contains(d.version, prereleases=True)
    s = get_scheme(q.name, user=False, home=None, root=None, isolated=bool(options.isolated_mode), prefix=None)
    r["scheme"] = {k: getattr(s, k) for k in ("purelib", "platlib", "headers", "scripts", "data")}
    reqs.append(r)
out["reqs"] = reqs
from pip._internal.operations.install.wheel import PipScriptMaker
m = PipScriptMaker(None, "")
m.variants = {""}
out["shebang"] = m._get_shebang("utf-8").decode("utf-8")
out["gui_shebang"] = m._get_shebang("utf-8", options={"gui": True}).decode("utf-8")
out["template"] = m.script_template
out["linesep"] = os.linesep
json.dump(out, sys.stdout)
`

// Probe is what the interpreter and pip answered.
type Probe struct {
	PipVersion    string     `json:"pip_version"`
	Tags          []string   `json:"tags"`
	Options       PipOptions `json:"options"`
	Prefix        string     `json:"prefix"`
	InVenv        bool       `json:"in_venv"`
	PycachePrefix *string    `json:"pycache_prefix"`
	PythonVersion string     `json:"python_version"`
	Executable    string     `json:"executable"`
	CABundle      string     `json:"ca_bundle"`
	Reqs          []ProbeReq `json:"reqs"`
	Shebang       string     `json:"shebang"`
	GUIShebang    string     `json:"gui_shebang"`
	Template      string     `json:"template"`
	Linesep       string     `json:"linesep"`
}

// PipOptions are pip install's parsed options (command line, config, env).
type PipOptions struct {
	IndexURL             string   `json:"index_url"`
	ExtraIndexURLs       []string `json:"extra_index_urls"`
	NoIndex              bool     `json:"no_index"`
	FindLinks            []string `json:"find_links"`
	TrustedHosts         []string `json:"trusted_hosts"`
	Cert                 *string  `json:"cert"`
	ClientCert           *string  `json:"client_cert"`
	Proxy                *string  `json:"proxy"`
	Compile              bool     `json:"compile"`
	TargetDir            *string  `json:"target_dir"`
	PrefixPath           *string  `json:"prefix_path"`
	RootPath             *string  `json:"root_path"`
	UseUserSite          *bool    `json:"use_user_site"`
	Isolated             bool     `json:"isolated_mode"`
	IgnoreInstalled      bool     `json:"ignore_installed"`
	ForceReinstall       bool     `json:"force_reinstall"`
	Upgrade              bool     `json:"upgrade"`
	IgnoreRequiresPython bool     `json:"ignore_requires_python"`
	DryRun               bool     `json:"dry_run"`
	GlobalOptions        []string `json:"global_options"`
	ConfigSettings       any      `json:"config_settings"`
	Platforms            []string `json:"platforms"`
	PythonVersionOpt     any      `json:"python_version"`
	Implementation       *string  `json:"implementation"`
	ABIs                 []string `json:"abis"`
	NoBinary             []string `json:"no_binary"`
}

// ProbeReq is one requirement line as pip reads it.
type ProbeReq struct {
	Line        string            `json:"line"`
	Error       string            `json:"error"`
	Name        string            `json:"name"`
	Canonical   string            `json:"canonical"`
	URL         string            `json:"url"`
	Specifier   [][2]string       `json:"specifier"`
	MarkerOK    bool              `json:"marker_ok"`
	Installed   *string           `json:"installed"`
	InstalledOK bool              `json:"installed_ok"`
	Scheme      map[string]string `json:"scheme"`
}

// RunProbe runs the probe with python (the interpreter of the pip that would
// otherwise install) in env, for pip install args and requirement lines
// (without their --hash options).
func RunProbe(ctx context.Context, python string, env, args, reqs []string) (*Probe, error) {
	in, err := json.Marshal(map[string]any{"args": args, "reqs": reqs})
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, python, "-c", probeScript)
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ask %s for pip's options and tags: %w: %s", python, err, lastLine(stderr.String()))
	}
	var p Probe
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		return nil, fmt.Errorf("ask %s for pip's options and tags: %w", python, err)
	}
	return &p, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
