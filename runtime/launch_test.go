package runtime

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pys2i/pys2i/run"
)

func TestExecute(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PATH=/usr/bin:/bin", "X=1"}
	tests := []struct {
		name       string
		plan       run.Plan
		wantCode   int
		wantOut    string
		wantErr    string
		samePID    bool // the exec'd program has the helper's pid (no extra process)
		wantPrefix bool
	}{
		{name: "messages then exit", plan: run.Plan{Steps: []run.Step{
			{Stream: run.Stdout, Text: "out line"}, {Stream: run.Stderr, Text: "err line"},
		}, Exit: 1}, wantCode: 1, wantOut: "out line\n", wantErr: "err line\n"},
		{name: "step runs in its dir with its env", plan: run.Plan{Steps: []run.Step{
			{Cmd: &run.Command{Argv: []string{"sh", "-c", `echo "$X $(pwd)"`}, Dir: dir, Env: env}},
		}, Exit: 0}, wantOut: "1 " + dir + "\n"},
		{name: "failing step ends run with its status", plan: run.Plan{Steps: []run.Step{
			{Cmd: &run.Command{Argv: []string{"sh", "-c", "exit 5"}, Dir: dir, Env: env}},
			{Stream: run.Stdout, Text: "not reached"},
		}, Exec: &run.Command{Argv: []string{"true"}, Dir: dir, Env: env}}, wantCode: 5},
		{name: "exec replaces the process", plan: run.Plan{
			Steps: []run.Step{{Stream: run.Stdout, Text: "go"}},
			Exec:  &run.Command{Argv: []string{"sh", "-c", `echo "$$ $X $(pwd)"; exit 9`}, Dir: dir, Env: env},
		}, wantCode: 9, samePID: true},
		{name: "exec via the init wrapper", plan: run.Plan{
			InitWrapper: true,
			Exec:        &run.Command{Argv: []string{"sh", "-c", `echo "$PPID"; exit 4`}, Dir: dir, Env: env},
		}, wantCode: 4, samePID: true},
		{name: "program not in PATH", plan: run.Plan{Exec: &run.Command{Argv: []string{"no-such-program"}, Dir: dir, Env: env}},
			wantCode: 127, wantErr: "run: no-such-program: command not found\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := json.Marshal(tt.plan)
			cmd := helper(t, "execute")
			cmd.Env = append(cmd.Env, "RUNTIME_TEST_PLAN="+string(b))
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			code := exitStatus(cmd.Wait())
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.wantCode, errb.String())
			}
			if tt.samePID {
				// Output: "go\n"? then "PID ..." — the first field of the last line.
				lines := strings.Split(strings.TrimSpace(out.String()), "\n")
				f := strings.Fields(lines[len(lines)-1])
				if f[0] != strconv.Itoa(cmd.Process.Pid) {
					t.Errorf("program saw pid/ppid %s, helper was %d: %q", f[0], cmd.Process.Pid, out.String())
				}
				if !tt.plan.InitWrapper && out.String() != "go\n"+f[0]+" 1 "+dir+"\n" {
					t.Errorf("output %q", out.String())
				}
				return
			}
			if out.String() != tt.wantOut || (tt.wantErr != "" && errb.String() != tt.wantErr) {
				t.Errorf("stdout %q stderr %q, want %q %q", out.String(), errb.String(), tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "tool"), nil, 0o755)
	os.WriteFile(filepath.Join(bin, "data"), nil, 0o644)
	env := []string{"PATH=" + bin + ":/bin"}
	if p, err := LookPath("tool", env, "/"); err != nil || p != filepath.Join(bin, "tool") {
		t.Errorf("tool: %q %v", p, err)
	}
	if _, err := LookPath("data", env, "/"); err == nil {
		t.Error("non-executable file found")
	}
	if p, err := LookPath("tool", []string{"PATH=bin"}, dir); err != nil || p != filepath.Join(bin, "tool") {
		t.Errorf("relative PATH entry: %q %v", p, err)
	}
	if p, _ := LookPath("./x.sh", env, "/"); p != "./x.sh" {
		t.Errorf("path with slash: %q", p)
	}
}
