package capability

import (
	"reflect"
	"testing"
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
