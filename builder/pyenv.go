package builder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pys2i/pys2i/builder/marker"
)

// PythonEnv is what a lock install needs to know about the venv's
// interpreter: its PEP 508 marker values and the wheel tags it accepts.
type PythonEnv struct {
	Vars map[string]string // python_version, python_full_version, sys_platform, ...
	Tags map[string]bool   // "cp311-cp311-manylinux_2_17_x86_64", ...; empty when the venv has no pip
}

// MarkerEnv is the marker environment with the chosen extras and groups.
func (e PythonEnv) MarkerEnv(extras, groups []string) marker.Env {
	return marker.Env{Vars: e.Vars, Extras: extras, Groups: groups}
}

// pyEnvScript prints the marker environment as packaging's
// default_environment() computes it, and the interpreter's supported wheel
// tags from pip's own copy of packaging (what pip will accept).
const pyEnvScript = `
import json, os, platform, sys
def fmt(info):
    v = "{0.major}.{0.minor}.{0.micro}".format(info)
    if info.releaselevel != "final":
        v += info.releaselevel[0] + str(info.serial)
    return v
env = {
    "implementation_name": sys.implementation.name,
    "implementation_version": fmt(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
try:
    from pip._vendor.packaging import tags
    t = [str(x) for x in tags.sys_tags()]
except Exception:
    t = None
json.dump({"vars": env, "tags": t}, sys.stdout)
`

// ProbePython asks the venv's python, once, for its PythonEnv.
func (x *Exec) ProbePython(ctx context.Context) (PythonEnv, error) {
	var out bytes.Buffer
	q := &Exec{Env: x.Env, Dir: x.Dir, Stdout: &out, Stderr: x.Stderr}
	if err := q.Run(ctx, "python", "-c", pyEnvScript); err != nil {
		var ce *CmdError
		if errors.As(err, &ce) {
			ce.Args = []string{"python", "-c", "<marker environment probe>"}
		}
		return PythonEnv{}, fmt.Errorf("asking the venv's python for its marker environment: %w", err)
	}
	return ParsePythonEnv(out.Bytes())
}

// ParsePythonEnv reads pyEnvScript's output.
func ParsePythonEnv(b []byte) (PythonEnv, error) {
	var raw struct {
		Vars map[string]string `json:"vars"`
		Tags []string          `json:"tags"`
	}
	if err := json.NewDecoder(io.LimitReader(bytes.NewReader(b), 16<<20)).Decode(&raw); err != nil {
		return PythonEnv{}, fmt.Errorf("reading the venv's python environment: %w", err)
	}
	for _, v := range marker.Variables {
		if _, ok := raw.Vars[v]; !ok {
			return PythonEnv{}, fmt.Errorf("reading the venv's python environment: no %s", v)
		}
	}
	e := PythonEnv{Vars: raw.Vars, Tags: map[string]bool{}}
	for _, t := range raw.Tags {
		e.Tags[t] = true
	}
	return e, nil
}
