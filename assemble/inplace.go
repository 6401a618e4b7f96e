package assemble

import (
	"fmt"
	"io"
	"strings"

	"github.com/pys2i/pys2i/assemble/artifacts"
)

// depsInPlace checks the dependencies pys2i build laid in place (the
// previous image's dependency layer) against the current inputs: the
// fingerprint the previous assemble recorded there must equal the one of
// this source and environment, the interpreter included. It reports
// whether pip can be skipped; on a mismatch it says why, and the install
// runs over what is there, as a normal build.
func depsInPlace(out io.Writer, path string, cur artifacts.Fingerprint, curErr error) bool {
	if curErr != nil {
		fmt.Fprintf(out, "---> Not reusing the dependencies in place: %v\n", curErr)
		return false
	}
	prev, err := artifacts.Read(path)
	if err != nil {
		fmt.Fprintf(out, "---> Not reusing the dependencies in place: %v\n", err)
		return false
	}
	if d := prev.Diff(cur); len(d) > 0 {
		fmt.Fprintf(out, "---> Not reusing the dependencies in place: changed %s\n", strings.Join(d, ", "))
		return false
	}
	return true
}
