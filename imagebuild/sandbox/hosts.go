package sandbox

import (
	"bytes"
	"fmt"
)

// hostsFile is base (the host's /etc/hosts) with extra appended, one
// "IP<TAB>NAME" line each, after a comment that says where they come from.
func hostsFile(base []byte, extra []HostEntry) []byte {
	var b bytes.Buffer
	b.Write(base)
	if len(base) > 0 && !bytes.HasSuffix(base, []byte("\n")) {
		b.WriteByte('\n')
	}
	b.WriteString("# added for this build\n")
	for _, e := range extra {
		fmt.Fprintf(&b, "%s\t%s\n", e.IP, e.Name)
	}
	return b.Bytes()
}
