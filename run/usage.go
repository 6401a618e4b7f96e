package run

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// Usage is the text of upstream's s2i/bin/usage. The Python version comes
// from PYTHON_VERSION (3.12 if unset) and the image name from IMAGE_NAME
// (python-VERSION if unset, e.g. python-3.12-minimal for the minimal image);
// the distribution from ID= in /etc/os-release (given as osRelease).
// Upstream kept only a double-quoted ID, so Fedora's unquoted one printed
// nothing; both forms are read here.
func Usage(env []string, osRelease []byte) string {
	e := newEnvList(env)
	version := e.get("PYTHON_VERSION")
	if version == "" {
		version = "3.12"
	}
	image := e.get("IMAGE_NAME")
	if image == "" {
		image = "python-" + version
	}
	distro := ""
	sc := bufio.NewScanner(bytes.NewReader(osRelease))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "ID="); ok {
			distro = strings.Trim(v, `"'`)
			break
		}
	}
	return fmt.Sprintf(`This is a S2I %[1]s %[3]s base image:
There are multiple ways how to run the image, see documentation at:
https://github.com/sclorg/s2i-python-container/blob/master/%[2]s/README.md

In order to create an application in OpenShift, run the following command:
oc new-app python:%[2]s~https://github.com/sclorg/s2i-python-container.git --context-dir=%[2]s/test/setup-test-app/

and check the created pods:
oc get pods

and test the application by running:
oc exec <pod> -- curl 127.0.0.1:8080
`, image, version, distro)
}
