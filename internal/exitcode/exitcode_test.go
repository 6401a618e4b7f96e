package exitcode

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), 1},
		{New(UserNotAllowed, "no"), 15},
		{fmt.Errorf("wrapped: %w", New(InstallRequired, "missing")), 11},
	}
	for _, tt := range tests {
		if got := Of(tt.err); got != tt.want {
			t.Errorf("Of(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestFinal(t *testing.T) {
	failed := errors.New("assemble: context canceled")
	for _, tt := range []struct {
		name       string
		err, cause error
		want       int
	}{
		{"success", nil, nil, 0},
		{"failure", failed, nil, 1},
		{"s2i status", New(UserNotAllowed, "no"), nil, 15},
		{"SIGINT", failed, &Signal{syscall.SIGINT}, 130},
		{"SIGTERM", failed, &Signal{syscall.SIGTERM}, 143},
		{"SIGHUP", failed, &Signal{syscall.SIGHUP}, 129},
		{"SIGTERM, wrapped", failed, fmt.Errorf("stopped: %w", &Signal{syscall.SIGTERM}), 143},
		{"finished before the signal mattered", nil, &Signal{syscall.SIGTERM}, 0},
		{"cancelled otherwise", failed, errors.New("deadline"), 1},
	} {
		if got := Final(tt.err, tt.cause); got != tt.want {
			t.Errorf("%s: Final = %d, want %d", tt.name, got, tt.want)
		}
	}
}
