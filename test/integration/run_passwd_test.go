package integration

import (
	"context"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/harness"
)

// Without libnss_wrapper in the image but with a group-writable /etc/passwd,
// an arbitrary uid gets an entry appended there, so whoami works too; with
// neither, run warns and still starts the app.
func TestRunPasswdWithoutNSSWrapper(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := runBuild(t, ctx)
	app := map[string]string{"app.sh*": "#!/bin/sh\necho \"uid=$(id -u) user=$(whoami 2>/dev/null || echo none) preload=${LD_PRELOAD:-none}\"\n"}
	tests := []struct {
		name, prep, want string
	}{
		{"group-writable /etc/passwd", "chmod 664 /etc/passwd",
			"---> Running application from script (./app.sh) ...\nuid=12345 user=default preload=none\n"},
		{"nothing writable", "true",
			"WARNING: uid 12345 has no user name (libnss_wrapper.so not found; open /etc/passwd: permission denied).\n" +
				"---> Running application from script (./app.sh) ...\nuid=12345 user=none preload=none\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := t.TempDir()
			s, err := w.S2ISpec(ctx, "minimal", state, bin)
			if err != nil {
				t.Fatal(err)
			}
			s.UID = 0
			sh(t, ctx, s, "rm /usr/lib/x86_64-linux-gnu/libnss_wrapper.so && "+tt.prep)
			s = runCaseSpec(t, ctx, "minimal", state, bin, 12345, app, nil)
			out, err := harness.Output(ctx, s)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if out != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", out, tt.want)
			}
		})
	}
}
