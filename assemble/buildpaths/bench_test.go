package buildpaths

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkNormalize is the cost of scrubbing one freshly built extension:
// the scan, the rewrite and the build ID's hash (MB/s of the file).
func BenchmarkNormalize(b *testing.B) {
	so := buildLikePip(b, b.TempDir(), "aqfyh8cn", "a4650d2592764248b0f0314a1b9035fe")
	buf := make([]byte, len(so))
	b.SetBytes(int64(len(so)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(buf, so)
		if did, err := Normalize(buf); !did || err != nil {
			b.Fatal(did, err)
		}
	}
}

// BenchmarkVenvUnchanged is what every build with SOURCE_DATE_EPOCH pays
// when nothing needs scrubbing (wheels only, or a reused dependency layer):
// a venv of 2,000 small Python files and 40 ELF files of 1 MiB (numpy's
// size class), read once each. Set BUILDPATHS_BENCH_VENV to a copy of a
// real venv to measure that instead (it is rewritten if it needs it).
func BenchmarkVenvUnchanged(b *testing.B) {
	venv := os.Getenv("BUILDPATHS_BENCH_VENV")
	if venv == "" {
		venv = b.TempDir()
		sp := filepath.Join(venv, "lib", "python3.11", "site-packages", "pkg")
		if err := os.MkdirAll(sp, 0o755); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 2000; i++ {
			if err := os.WriteFile(filepath.Join(sp, "m"+strconv.Itoa(i)+".py"), bytes.Repeat([]byte("x = 1\n"), 300), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		elfFile := make([]byte, 1<<20)
		rand.Read(elfFile)
		copy(elfFile, "\x7fELF")
		for i := 0; i < 40; i++ {
			if err := os.WriteFile(filepath.Join(sp, "ext"+strconv.Itoa(i)+".so"), elfFile, 0o755); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := Venv(venv); err != nil { // the first run may scrub a real venv
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if changed, err := Venv(venv); err != nil || len(changed) != 0 {
			b.Fatal(changed, err)
		}
	}
}
