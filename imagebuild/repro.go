package imagebuild

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pys2i/pys2i/internal/envlist"
)

// DefaultEpoch is the creation time of a built image, and the cap on its new
// files' modification times, when SOURCE_DATE_EPOCH is not set:
// 1980-01-01T00:00:00Z, the earliest time a zip file (a wheel) can record,
// so that nothing built from clamped files breaks on it. A fixed time makes
// the same source, builder and index give the same image digest.
const DefaultEpoch int64 = 315532800

// sourceDateEpoch parses SOURCE_DATE_EPOCH (seconds since 1970, as
// reproducible-builds.org defines it); "" gives DefaultEpoch.
func sourceDateEpoch(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Unix(DefaultEpoch, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("invalid SOURCE_DATE_EPOCH %q: want a non-negative number of seconds since 1970", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

// epochEnv is what assemble's environment gets so that the tools it runs
// write reproducible output (pip and py_compile then write hash-based pycs):
// nothing if the environment sets SOURCE_DATE_EPOCH already. It goes into
// the sandbox only, never into the image config.
func epochEnv(env []string, epoch time.Time) []string {
	if envlist.Get(env, "SOURCE_DATE_EPOCH") != "" {
		return nil
	}
	return []string{"SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch.Unix(), 10)}
}

// buildEpoch is the build's time: req.Now if set (tests), else
// SOURCE_DATE_EPOCH from the build env (-e: this build's own setting, and
// the value assemble sees), else the caller's, else DefaultEpoch.
func buildEpoch(req Request, buildEnv []string) (time.Time, error) {
	if req.Now != nil {
		return req.Now().UTC().Truncate(time.Second), nil
	}
	v := envlist.Get(buildEnv, "SOURCE_DATE_EPOCH")
	if v == "" {
		v = req.SourceDateEpoch
	}
	return sourceDateEpoch(v)
}
