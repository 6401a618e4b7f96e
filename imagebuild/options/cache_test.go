package options

import (
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"12h", 12 * time.Hour, true},
		{"0", 0, true},
		{"-1d", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, err := ParseAge(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseAge(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"10GiB", 10 << 30, true},
		{"10G", 10 << 30, true},
		{"512M", 512 << 20, true},
		{"1.5KiB", 1536, true},
		{"4096", 4096, true},
		{"100B", 100, true},
		{"0", 0, true},
		{"10 GiB", 10 << 30, true},
		{"-1G", 0, false},
		{"big", 0, false},
		{"10XB", 0, false},
	} {
		got, err := ParseSize(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseSize(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
