package options

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Defaults of the pip cache bounds (--pip-cache-max-age, --pip-cache-max-size).
const (
	DefaultPipCacheMaxAge  = "30d"
	DefaultPipCacheMaxSize = "10GiB"
)

// ParseAge reads a --pip-cache-max-age: days ("30d") or a Go duration
// ("12h"); 0 is no bound.
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid age %q: want days (30d) or a duration (12h), 0 for no bound", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid age %q: want days (30d) or a duration (12h), 0 for no bound", s)
	}
	return d, nil
}

// sizeUnits are the suffixes ParseSize takes, longest first; K, M, G, T
// and their iB forms are powers of 1024, as du and podman count.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1}, {"", 1},
}

// ParseSize reads a --pip-cache-max-size: bytes, or a number with K, M, G,
// T (or KiB...: powers of 1024); 0 is no bound.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	for _, u := range sizeUnits {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || n < 0 {
			break
		}
		return int64(n * float64(u.mult)), nil
	}
	return 0, fmt.Errorf("invalid size %q: want bytes or a number with K, M, G or T (10GiB), 0 for no bound", s)
}
