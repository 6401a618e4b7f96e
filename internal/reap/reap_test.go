package reap

import (
	"os"
	"os/exec"
	"testing"
)

func TestUntil(t *testing.T) {
	for _, tt := range []struct {
		name   string
		script string
		want   int
	}{
		{"exit code", "exit 3", 3},
		{"success", "true", 0},
		{"killed by TERM", "kill -TERM $$", 143},
		{"killed by KILL", "kill -KILL $$", 137},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("/bin/sh", "-c", tt.script)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			got, err := Until(cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}
