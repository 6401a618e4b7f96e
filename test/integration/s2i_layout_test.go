package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/harness"
)

// The stand-in for a pys2i builder image that assemble and run tests use:
// the venv at /opt/app-root owned by 1001:0, HOME, the in-image binary at
// the upstream paths, the builder ENV and nothing of the host's.
func TestS2IStandInLayout(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := w.Scripts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, variant := range []string{"minimal", "full"} {
		t.Run(variant, func(t *testing.T) {
			s, err := w.S2ISpec(ctx, variant, t.TempDir(), bin, "/bin/sh", "-c",
				`pwd; id -u; id -g; stat -c '%u:%g' /opt/app-root /opt/app-root/src; command -v python; command -v pip; echo "VE=$VIRTUAL_ENV"; ls -l /usr/libexec/s2i/assemble /usr/bin/fix-permissions | wc -l; echo "HOSTVAR=${PIP_FIND_LINKS:-unset}"`)
			if err != nil {
				t.Fatal(err)
			}
			out, err := harness.Output(ctx, s)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			want := "/opt/app-root/src\n1001\n0\n1001:0\n1001:0\n/opt/app-root/bin/python\n/opt/app-root/bin/pip\nVE=/opt/app-root\n2\nHOSTVAR=unset\n"
			if out != want {
				t.Errorf("got:\n%s\nwant:\n%s", out, want)
			}
			if strings.Contains(out, "/opt/wheels") {
				t.Error("host environment leaked")
			}
		})
	}
}
