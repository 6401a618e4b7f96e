package integration

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/harness"
)

// runSignalScript starts run in the background under the sandbox, waits
// for the app to say it is ready, sends it a signal and reports the exit
// status and how long the app took to end.
const runSignalScript = `/usr/libexec/s2i/run &
pid=$!
i=0; while [ ! -e /tmp/ready ]; do sleep 0.01; i=$((i+1)); [ $i -lt 1000 ] || { echo "never ready"; exit 1; }; done
start=$(date +%s%N)
kill -s SIG $pid
wait $pid; st=$?
end=$(date +%s%N)
echo "status=$st ms=$(( (end - start) / 1000000 ))"
`

// Signals to an init-wrapped app.sh: forwarded (INT as TERM, as upstream),
// the app ends within 2 s, and run exits with the app's status, or
// 128+signal when the app was killed by it.
func TestRunSignals(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := runBuild(t, ctx)
	untrapped := "#!/bin/sh\ntouch /tmp/ready\nexec sleep 60\n"
	trapped := "#!/bin/sh\ntrap 'echo got TERM; exit 0' TERM\ntrap 'echo got HUP; exit 11' HUP\ntrap 'echo got USR1; exit 12' USR1\ntouch /tmp/ready\nwhile :; do sleep 0.05; done\n"
	tests := []struct {
		name, app, sig string
		status         int
	}{
		{"TERM kills an untrapped app", untrapped, "TERM", 143},
		{"TERM to a graceful app", trapped, "TERM", 0},
		{"INT arrives as TERM", trapped, "INT", 0},
		{"HUP as it is", trapped, "HUP", 11},
		{"USR1 as it is", trapped, "USR1", 12},
		{"KILL of the app is 137", "#!/bin/sh\ntouch /tmp/ready\nkill -KILL $$\n", "CONT", 137},
	}
	re := regexp.MustCompile(`status=(\d+) ms=(\d+)`)
	for _, tt := range tests {
		for _, uid := range runUIDs {
			t.Run(tt.name+"/uid"+strconv.Itoa(int(uid)), func(t *testing.T) {
				s := runCaseSpec(t, ctx, "minimal", t.TempDir(), bin, uid, map[string]string{"app.sh*": tt.app}, []string{"ENABLE_INIT_WRAPPER=1"})
				s.Args = []string{"/bin/sh", "-c", regexp.MustCompile(`SIG`).ReplaceAllString(runSignalScript, tt.sig)}
				out, err := harness.Output(ctx, s)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				m := re.FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("no status in output:\n%s", out)
				}
				st, _ := strconv.Atoi(m[1])
				ms, _ := strconv.Atoi(m[2])
				if st != tt.status {
					t.Errorf("status %d, want %d\n%s", st, tt.status, out)
				}
				if ms > 2000 {
					t.Errorf("the app took %d ms to end, want under 2 s\n%s", ms, out)
				}
				t.Logf("ended in %d ms", ms)
			})
		}
	}
}

// An orphaned grandchild of an init-wrapped app is re-parented to run and
// reaped when it exits: no zombie is left while the app runs on.
func TestRunReapsOrphans(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := runBuild(t, ctx)
	app := `#!/bin/sh
sh -c 'sleep 0.2 & echo $! > /tmp/gc'
gc=$(cat /tmp/gc)
parent=$(awk '{print $4}' /proc/$gc/stat)
if [ "$parent" = "$PPID" ]; then echo reparented=yes; else echo "reparented=no ($parent, run is $PPID)"; fi
sleep 0.8
if [ -e /proc/$gc ]; then echo "gc_gone=no ($(cat /proc/$gc/stat))"; else echo gc_gone=yes; fi
echo "zombies=$(awk '$3 == "Z"' /proc/[0-9]*/stat | wc -l)"
exit 5
`
	for _, uid := range runUIDs {
		t.Run("uid"+strconv.Itoa(int(uid)), func(t *testing.T) {
			s := runCaseSpec(t, ctx, "minimal", t.TempDir(), bin, uid, map[string]string{"app.sh*": app}, []string{"ENABLE_INIT_WRAPPER=1"})
			out, err := harness.Output(ctx, s)
			if exitCode(err) != 5 {
				t.Errorf("exit %v, want status 5\n%s", err, out)
			}
			want := "---> Running application from script (./app.sh) ...\nreparented=yes\ngc_gone=yes\nzombies=0\n"
			if out != want {
				t.Errorf("got:\n%s\nwant:\n%s", out, want)
			}
		})
	}
}
