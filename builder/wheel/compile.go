package wheel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
)

// compileScript is pip's bytecode step for a list of [staged, final]
// source paths: compileall.compile_file(force=True, quiet=True) with
// warnings ignored, the code's file name the final path (ddir), the
// interpreter's own invalidation mode (checked hashes under
// SOURCE_DATE_EPOCH) and optimization. It prints, per source, the final pyc
// path, or "" when the file does not compile (pip skips those).
const compileScript = `
import compileall, importlib.util, io, json, os, sys, warnings, contextlib
items = json.load(sys.stdin)
out = []
with contextlib.redirect_stdout(io.StringIO()):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        for staged, final in items:
            ok = compileall.compile_file(staged, ddir=os.path.dirname(final), force=True, quiet=True)
            out.append(importlib.util.cache_from_source(final) if ok else "")
json.dump(out, sys.stdout)
`

// Compile compiles sources (pairs of staged and final paths) with python,
// split over jobs processes, and returns each final pyc path ("" for a
// source that does not compile).
func Compile(ctx context.Context, python string, env []string, items [][2]string, jobs int) ([]string, error) {
	if jobs < 1 {
		jobs = 1
	}
	out := make([]string, len(items))
	chunk := (len(items) + jobs - 1) / jobs
	var wg sync.WaitGroup
	errs := make([]error, jobs)
	for j := 0; j < jobs; j++ {
		lo, hi := j*chunk, min((j+1)*chunk, len(items))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			in, _ := json.Marshal(items[lo:hi])
			cmd := exec.CommandContext(ctx, python, "-c", compileScript)
			cmd.Env = env
			cmd.Stdin = bytes.NewReader(in)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				errs[j] = fmt.Errorf("compile bytecode: %w: %s", err, lastLine(stderr.String()))
				return
			}
			var res []string
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || len(res) != hi-lo {
				errs[j] = fmt.Errorf("compile bytecode: unexpected answer from %s", python)
				return
			}
			copy(out[lo:hi], res)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
