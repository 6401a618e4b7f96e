package imagebuild

import (
	"slices"
	"testing"
	"time"
)

func TestSourceDateEpoch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"", DefaultEpoch, false},
		{"0", 0, false},
		{" 1700000000\n", 1700000000, false},
		{"-1", 0, true},
		{"yesterday", 0, true},
	} {
		got, err := sourceDateEpoch(tc.in)
		if (err != nil) != tc.err || (err == nil && got.Unix() != tc.want) {
			t.Errorf("sourceDateEpoch(%q) = %v, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestBuildEpoch(t *testing.T) {
	fixed := time.Unix(42, 5e8)
	for _, tc := range []struct {
		name string
		req  Request
		env  []string
		want int64
	}{
		{"default", Request{}, nil, DefaultEpoch},
		{"build env wins", Request{SourceDateEpoch: "100"}, []string{"SOURCE_DATE_EPOCH=200"}, 200},
		{"build env", Request{}, []string{"SOURCE_DATE_EPOCH=200"}, 200},
		{"caller's", Request{SourceDateEpoch: "100"}, nil, 100},
		{"Now", Request{Now: func() time.Time { return fixed }}, nil, 42},
	} {
		got, err := buildEpoch(tc.req, tc.env)
		if err != nil || got.Unix() != tc.want {
			t.Errorf("%s: %v, %v; want %d", tc.name, got, err, tc.want)
		}
	}
}

func TestEpochEnv(t *testing.T) {
	e := time.Unix(315532800, 0)
	if got := epochEnv([]string{"A=1"}, e); !slices.Equal(got, []string{"SOURCE_DATE_EPOCH=315532800"}) {
		t.Errorf("added %v", got)
	}
	if got := epochEnv([]string{"SOURCE_DATE_EPOCH=5"}, e); got != nil {
		t.Errorf("set already, added %v", got)
	}
}
