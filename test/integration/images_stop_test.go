package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/world"
)

// TestImagesGunicornStop: `podman stop -t 10` of a gunicorn app ends it by
// the TERM even where gunicorn loses or never sees one (issue 14), without
// ENABLE_INIT_WRAPPER. The app's gunicorn.conf.py hooks hold gunicorn in
// the two places, so that each is hit every time instead of on a loaded
// machine only:
//   - a worker that gets the arbiter's TERM between its fork and its own
//     handlers (post_fork waits until the TERM has come and been queued in
//     its copy of the arbiter, and says so in the log);
//   - an arbiter that gets TERM before it sets its handlers (on_starting
//     sleeps); as PID 1 the kernel drops that TERM.
//
// Before the fix both ended by podman's KILL (137) after 10 s.
func TestImagesGunicornStop(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	app := imagesApp{dir: "gunicorn-late-handlers", variant: "minimal"}
	imagesRequire(t, ctx, imagesVariants[app.variant])
	tag := "localhost/pys2i-test/app-" + app.dir + ":latest"
	if out, err := imagesBuildApp(ctx, t, app, tag); err != nil {
		t.Fatalf("build %s: %v\n%s", app.dir, err, out)
	}
	defer world.Podman(context.Background(), w.Conf, "rmi", "-f", tag)
	tests := []struct {
		name string
		env  []string
		// wait is the log line after which the TERM is sure to find
		// gunicorn held; lost must then be in the log, if set.
		wait, lost string
	}{
		{"worker forked just before the TERM", []string{"HOLD_WORKER=1", "WEB_CONCURRENCY=1"},
			"Booting worker with pid", "post_fork: lost [15]"},
		{"TERM before the arbiter's handlers", []string{"HOLD_ARBITER=5"},
			"Starting gunicorn", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"run", "-d", "--network", "host", "-e", fmt.Sprintf("PORT=%d", freePort(t))}
			for _, e := range tt.env {
				args = append(args, "-e", e)
			}
			id, err := world.Podman(ctx, w.Conf, append(args, tag)...)
			if err != nil {
				t.Fatal(err)
			}
			defer world.Podman(context.Background(), w.Conf, "rm", "-f", "-t", "0", id)
			imagesWaitLog(ctx, t, id, tt.wait)
			code, ended := imagesStop(ctx, t, id)
			logs, _ := imagesLogs(ctx, id)
			if code == 137 || ended >= 10*time.Second {
				t.Errorf("podman stop -t 10: exit status %d after %v, want gunicorn ended by the TERM (not 137) before the 10 s timeout\n%s", code, ended, logs)
			}
			if tt.lost != "" && !strings.Contains(logs, tt.lost) {
				t.Errorf("no %q in the log: the worker did not lose the arbiter's TERM, the case was not hit\n%s", tt.lost, logs)
			}
			t.Logf("podman stop -t 10: exit status %d, ended after %v", code, ended.Round(time.Millisecond))
		})
	}
}

// imagesWaitLog waits until the container's log holds line.
func imagesWaitLog(ctx context.Context, t *testing.T, id, line string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		logs, err := imagesLogs(ctx, id)
		if err == nil && strings.Contains(logs, line) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log within 60 s: %v\n%s", line, err, logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// imagesLogs is the container's log, stdout and stderr (where gunicorn
// logs) as podman interleaves them; world.Podman keeps stdout only.
func imagesLogs(ctx context.Context, id string) (string, error) {
	cmd := exec.CommandContext(ctx, "podman", "logs", id)
	cmd.Env = append(os.Environ(), w.Conf.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("podman logs %s: %w", id, err)
	}
	return string(out), nil
}

// imagesStop runs `podman stop -t 10` and returns the exit status and when,
// after the stop began, the container ended (podman's exit file time).
func imagesStop(ctx context.Context, t *testing.T, id string) (int, time.Duration) {
	t.Helper()
	stop := time.Now()
	if _, err := world.Podman(ctx, w.Conf, "stop", "-t", "10", id); err != nil {
		t.Fatal(err)
	}
	st, err := world.Podman(ctx, w.Conf, "inspect", "--format", "{{.State.ExitCode}} {{.State.FinishedAt.UnixNano}}", id)
	if err != nil {
		t.Fatal(err)
	}
	var code int
	var finished int64
	if _, err := fmt.Sscan(st, &code, &finished); err != nil {
		t.Fatalf("inspect %q: %v", st, err)
	}
	return code, time.Unix(0, finished).Sub(stop)
}
