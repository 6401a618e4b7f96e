package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pys2i/pys2i/test/harness"
)

// runBenchBin builds the in-image binary for a benchmark.
func runBenchBin(b *testing.B, ctx context.Context) string {
	b.Helper()
	bin, err := harness.BuildScripts(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return bin
}

func runMedian(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// run's own cost, on the host: exec of run to exec of a stand-in gunicorn
// that exits at once (/bin/true), minus the stand-in started directly. The
// decision reads the real /sys/fs/cgroup (WEB_CONCURRENCY is computed).
func BenchmarkRunOwnCost(b *testing.B) {
	ctx := context.Background()
	bin := runBenchBin(b, ctx)
	dir := b.TempDir()
	src, bindir := filepath.Join(dir, "src"), filepath.Join(dir, "bin")
	os.MkdirAll(src, 0o755)
	os.MkdirAll(bindir, 0o755)
	os.WriteFile(filepath.Join(src, "wsgi.py"), nil, 0o644)
	trueBin, err := exec.LookPath("true")
	if err != nil {
		b.Fatal(err)
	}
	data, _ := os.ReadFile(trueBin)
	os.WriteFile(filepath.Join(bindir, "gunicorn"), data, 0o755)
	env := []string{"PATH=" + bindir + ":/usr/bin:/bin", "HOME=" + src, "LANG=C.UTF-8"}
	runOnce := func(argv ...string) time.Duration {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir, cmd.Env = src, env
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", argv, err, out)
		}
		return time.Since(start)
	}
	var viaRun, direct []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		viaRun = append(viaRun, runOnce(bin, "run"))
		direct = append(direct, runOnce(filepath.Join(bindir, "gunicorn"), "wsgi", "--bind=0.0.0.0:8080", "--access-logfile=-", "--config", ""))
	}
	b.StopTimer()
	r, d := runMedian(viaRun), runMedian(direct)
	b.ReportMetric(float64(r.Microseconds()), "µs-via-run")
	b.ReportMetric(float64(d.Microseconds()), "µs-direct")
	b.ReportMetric(float64((r - d).Microseconds()), "µs-run-own-cost")
}

// The same inside the sandboxed image as an arbitrary uid (so the passwd
// file for nss_wrapper is written too), timed by the shell there.
func BenchmarkRunOwnCostInImage(b *testing.B) {
	ctx := context.Background()
	bin := runBenchBin(b, ctx)
	state := b.TempDir()
	s, err := w.S2ISpec(ctx, "minimal", state, bin)
	if err != nil {
		b.Fatal(err)
	}
	home := filepath.Join(state, "upper", harness.AppHome)
	os.WriteFile(filepath.Join(home, "wsgi.py"), nil, 0o664)
	os.WriteFile(filepath.Join(state, "upper", harness.AppRoot, "bin/gunicorn"), []byte("#!/bin/true\n"), 0o775)
	// A script whose interpreter is /bin/true: exec'd, it exits at once.
	n := b.N
	if n < 20 {
		n = 20
	}
	s.UID = 12345
	s.Args = []string{"/bin/sh", "-c", fmt.Sprintf(`t() { s=$(date +%%s%%N); "$@" >/dev/null 2>&1; e=$(date +%%s%%N); echo $(( (e - s) / 1000 )); }
for i in $(seq %d); do echo "run $(t /usr/libexec/s2i/run)"; echo "direct $(t gunicorn wsgi --bind=0.0.0.0:8080 --access-logfile=- --config '')"; done`, n)}
	b.ResetTimer()
	out, err := harness.Output(ctx, s)
	b.StopTimer()
	if err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	var viaRun, direct []time.Duration
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		us, _ := strconv.Atoi(f[1])
		if f[0] == "run" {
			viaRun = append(viaRun, time.Duration(us)*time.Microsecond)
		} else {
			direct = append(direct, time.Duration(us)*time.Microsecond)
		}
	}
	r, d := runMedian(viaRun), runMedian(direct)
	b.ReportMetric(float64(r.Microseconds()), "µs-via-run")
	b.ReportMetric(float64(d.Microseconds()), "µs-direct")
	b.ReportMetric(float64((r - d).Microseconds()), "µs-run-own-cost")
}

// Start of the sandbox's command to the first HTTP 200 of a flask app:
// /usr/libexec/s2i/run versus gunicorn started directly with the same
// arguments and worker count.
func BenchmarkRunFirst200(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := runBenchBin(b, ctx)
	state := b.TempDir()
	s, err := w.S2ISpec(ctx, "minimal", state, bin)
	if err != nil {
		b.Fatal(err)
	}
	s.Args = []string{"/bin/sh", "-c", "pip install -q --disable-pip-version-check --index-url " + w.Index.URL + " flask gunicorn==23.0.0"}
	if out, err := harness.Output(ctx, s); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(state, "upper", harness.AppHome, "hello.py"), []byte(`from flask import Flask
app = Flask(__name__)

@app.route("/")
def index():
    return "hello from flask"
`), 0o664)
	// The test image has no passwd entry for 1001, so run sets up
	// nss_wrapper (LD_PRELOAD) as for an arbitrary uid: "direct-nss" is
	// gunicorn started directly with that same environment.
	nss := []string{"NSS_WRAPPER_PASSWD=/opt/app-root/etc/passwd", "NSS_WRAPPER_GROUP=/etc/group", "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"}
	var viaRun, direct, directNSS []time.Duration
	n := b.N
	if n < 5 {
		n = 5
	}
	b.ResetTimer()
	for i := 0; i < n; i++ {
		modes := []string{"run", "direct", "direct-nss"}
		for j := range modes { // rotate, so no mode always goes first
			mode := modes[(i+j)%len(modes)]
			port, err := harness.FreePort()
			if err != nil {
				b.Fatal(err)
			}
			s, err := w.S2ISpec(ctx, "minimal", state, bin)
			if err != nil {
				b.Fatal(err)
			}
			s.Env = append(s.Env, "WEB_CONCURRENCY=2", fmt.Sprintf("PORT=%d", port))
			if mode == "run" {
				s.Args = []string{harness.ScriptsPath + "/run"}
				s.Env = append(s.Env, "APP_MODULE=hello:app")
			} else {
				s.Args = []string{"gunicorn", "hello:app", fmt.Sprintf("--bind=0.0.0.0:%d", port), "--access-logfile=-", "--config", ""}
			}
			if mode == "direct-nss" {
				s.Env = append(s.Env, nss...)
			}
			d, err := runWaitHTTP(s, fmt.Sprintf("http://127.0.0.1:%d/", port), "hello from flask")
			if err != nil {
				b.Fatal(err)
			}
			switch mode {
			case "run":
				viaRun = append(viaRun, d)
			case "direct":
				direct = append(direct, d)
			default:
				directNSS = append(directNSS, d)
			}
		}
	}
	b.StopTimer()
	r, d, dn := runMedian(viaRun), runMedian(direct), runMedian(directNSS)
	b.ReportMetric(float64(r.Milliseconds()), "ms-via-run")
	b.ReportMetric(float64(d.Milliseconds()), "ms-direct")
	b.ReportMetric(float64(dn.Milliseconds()), "ms-direct-nss")
	b.ReportMetric(float64(r.Microseconds()-d.Microseconds())/1000, "ms-run-minus-direct")
	b.ReportMetric(float64(r.Microseconds()-dn.Microseconds())/1000, "ms-run-minus-direct-nss")
}

// Resident memory of run staying as the init wrapper of an app.sh.
func BenchmarkRunWrapperRSS(b *testing.B) {
	ctx := context.Background()
	bin := runBenchBin(b, ctx)
	src := b.TempDir()
	os.WriteFile(filepath.Join(src, "app.sh"), []byte("#!/bin/sh\nexec sleep 30\n"), 0o755)
	re := regexp.MustCompile(`VmRSS:\s+(\d+) kB`)
	var max int
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "run")
		cmd.Dir = src
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + src, "ENABLE_INIT_WRAPPER=1"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID} // run is PID 1 there
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if err != nil {
			b.Fatal(err)
		}
		m := re.FindSubmatch(st)
		if m == nil {
			b.Fatalf("no VmRSS in %s", st)
		}
		kb, _ := strconv.Atoi(string(m[1]))
		if kb > max {
			max = kb
		}
	}
	b.ReportMetric(float64(max), "kB-rss")
}
