package integration

import (
	"context"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/harness"
)

var asmBenchFiles = map[string]string{
	"requirements.txt": "flask==2.2.2\nwerkzeug<3\ngunicorn==20.1.0\n",
	"wsgi.py":          asmFlaskApp,
}

// BenchmarkAssembleFlask: assemble of a flask+gunicorn app in the minimal
// image (the box is made outside the timer).
func BenchmarkAssembleFlask(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bin := asmBin(b)
	for b.Loop() {
		b.StopTimer()
		box := asmBenchBox(b, ctx, bin)
		b.StartTimer()
		box.mustAssemble()
	}
}

// BenchmarkAssembleFloor: what assemble must do at least, in the same
// image: `python3 -m venv` + `pip install -r requirements.txt` (FloorVenv),
// and pip alone in the image's existing venv (FloorPip).
func BenchmarkAssembleFloorVenv(b *testing.B) {
	asmBenchFloor(b, "rm -rf /tmp/fv && python3 -m venv /tmp/fv && /tmp/fv/bin/pip install -q -r /tmp/src/requirements.txt")
}

func BenchmarkAssembleFloorPip(b *testing.B) {
	asmBenchFloor(b, "pip install -q -r /tmp/src/requirements.txt")
}

func asmBenchFloor(b *testing.B, script string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bin := asmBin(b)
	for b.Loop() {
		b.StopTimer()
		box := asmBenchBox(b, ctx, bin)
		s := box.spec
		s.Env = asmEnv(s.Env, "PIP_INDEX_URL="+w.Index.URL, "PIP_DISABLE_PIP_VERSION_CHECK=1")
		s.Args = []string{"/bin/sh", "-ec", script}
		b.StartTimer()
		if out, err := harness.Output(ctx, s); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
	}
}

// BenchmarkReassembleUnchanged: assemble again with the previous build's
// save-artifacts tar in /tmp/artifacts and the same requirements.
func BenchmarkReassembleUnchanged(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	bin := asmBin(b)
	first := asmBenchBox(b, ctx, bin)
	first.mustAssemble()
	tarPath := first.asmSaveArtifacts()
	for b.Loop() {
		b.StopTimer()
		box := asmBenchBox(b, ctx, bin)
		box.asmPutArtifacts(tarPath)
		b.StartTimer()
		out := box.mustAssemble()
		b.StopTimer()
		asmInOrder(b, out, "---> Reusing dependencies from the previous build")
		b.StartTimer()
	}
}

func asmBenchBox(b *testing.B, ctx context.Context, bin string) *asmBox {
	b.Helper()
	s, err := w.S2ISpec(ctx, "minimal", b.TempDir(), bin, "/bin/true")
	if err != nil {
		b.Fatal(err)
	}
	box := &asmBox{t: b, ctx: ctx, spec: s}
	box.putSource(asmBenchFiles)
	return box
}
