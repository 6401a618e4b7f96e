package capability

import (
	"reflect"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"CAP_NET_RAW", "CAP_NET_RAW"},
		{"net_raw", "CAP_NET_RAW"},
		{" chown ", "CAP_CHOWN"},
		{"all", "ALL"},
		{"cap_checkpoint_restore", "CAP_CHECKPOINT_RESTORE"},
		{"CAP_NOPE", ""},
		{"", ""},
		{"CAP_", ""},
	}
	for _, tt := range tests {
		got, err := Canonical(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNumbers(t *testing.T) {
	got, err := Numbers([]string{"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_RAW"})
	if err != nil || !reflect.DeepEqual(got, []int{0, 21, 13}) {
		t.Errorf("Numbers = %v, %v", got, err)
	}
	all, err := Numbers([]string{"CAP_CHOWN", All})
	if err != nil || len(all) != 41 || all[40] != 40 {
		t.Errorf("Numbers(ALL) = %v, %v", all, err)
	}
	if _, err := Numbers([]string{"CAP_X"}); err == nil {
		t.Error("Numbers(CAP_X) succeeded")
	}
	if Name(21) != "CAP_SYS_ADMIN" || Name(99) != "CAP_99" {
		t.Errorf("Name: %s %s", Name(21), Name(99))
	}
}

func TestKeep(t *testing.T) {
	tests := []struct {
		drop []int
		want []int
	}{
		{nil, []int{0, 1, 3, 4, 5, 10, 31, 6, 8, 7, 18}},
		{[]int{0, 21, 18}, []int{1, 3, 4, 5, 10, 31, 6, 8, 7}},
	}
	for _, tt := range tests {
		got, err := Keep(Default(), tt.drop)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Keep(Default(), %v) = %v, %v; want %v", tt.drop, got, err, tt.want)
		}
	}
	all, _ := Numbers([]string{All})
	if got, err := Keep(Default(), all); err != nil || len(got) != 0 {
		t.Errorf("Keep(Default(), ALL) = %v, %v; want none", got, err)
	}
	if got := Names([]int{0, 21}); !reflect.DeepEqual(got, []string{"CAP_CHOWN", "CAP_SYS_ADMIN"}) {
		t.Errorf("Names = %v", got)
	}
}

// Default is podman's list, as this machine's podman ships it.
func TestDefaultIsPodmans(t *testing.T) {
	const path = "/usr/share/containers/containers.conf"
	var conf struct {
		Containers struct {
			DefaultCapabilities []string `toml:"default_capabilities"`
		} `toml:"containers"`
	}
	if _, err := toml.DecodeFile(path, &conf); err != nil {
		t.Fatalf("podman's defaults (apt-get install podman): %v", err)
	}
	var want []string
	for _, c := range conf.Containers.DefaultCapabilities {
		want = append(want, "CAP_"+c)
	}
	if !reflect.DeepEqual(Default(), want) {
		t.Errorf("Default() = %v, %s has %v", Default(), path, want)
	}
}
