package world

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/oci/layout"
	istorage "go.podman.io/image/v5/storage"
	"go.podman.io/storage"
	storagetypes "go.podman.io/storage/types"
)

// Conf are the container configuration files of the world's podman store.
type Conf struct {
	Containers string `json:"containers"` // CONTAINERS_CONF
	Storage    string `json:"storage"`    // CONTAINERS_STORAGE_CONF
	Registries string `json:"registries"` // CONTAINERS_REGISTRIES_CONF
}

// Env returns the variables that point podman (and containers/image) at them.
func (c Conf) Env() []string {
	return []string{
		"CONTAINERS_CONF=" + c.Containers,
		"CONTAINERS_STORAGE_CONF=" + c.Storage,
		"CONTAINERS_REGISTRIES_CONF=" + c.Registries,
	}
}

// writeConf writes the configuration measured to work on these machines:
// runc (crun fails on cgroup v1 hybrid), explicit ulimits, cgroupfs, file
// events, overlay in the world's own graphroot, and a plain-HTTP local registry.
// The overlay directory is not bind-mounted on itself (skip_mount_home): the
// build tests' stores read this one's layers as lower directories, and a
// podman here unmounting that bind mount as it exits (it counts only this
// store's mounts) made their overlay mounts fail ("failed to clone lowerpath").
func writeConf(root string) (Conf, error) {
	dir := filepath.Join(root, "conf")
	c := Conf{
		Containers: filepath.Join(dir, "containers.conf"),
		Storage:    filepath.Join(dir, "storage.conf"),
		Registries: filepath.Join(dir, "registries.conf"),
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return c, err
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return c, fmt.Errorf("nofile limit: %w", err)
	}
	nofile := lim.Max
	if nofile > 1<<20 {
		nofile = 1 << 20
	}
	files := map[string]string{
		c.Containers: fmt.Sprintf(`[containers]
default_ulimits = ["nofile=%d:%d", "nproc=32768:32768"]
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
`, nofile, nofile),
		c.Storage: fmt.Sprintf(`[storage]
driver = "overlay"
graphroot = %q
runroot = %q
[storage.options.overlay]
skip_mount_home = "true"
`, filepath.Join(root, "podman", "graph"), filepath.Join(root, "podman", "run")),
		c.Registries: `unqualified-search-registries = []
[[registry]]
location = "127.0.0.1:5000"
insecure = true
[[registry]]
location = "localhost:5000"
insecure = true
`,
	}
	for path, body := range files {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return c, err
		}
	}
	return c, nil
}

// storeLock keeps image removals apart from image builds in this process:
// podman 4.3's build lists the store's images to look for a cached step
// and fails ("getting top layer info: layer not known") when another
// podman removes one meanwhile, which parallel tests do.
var storeLock sync.RWMutex

// podmanVerb is the subcommand of a podman command line, "image rm" as "rmi".
func podmanVerb(args []string) string {
	var words []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			words = append(words, a)
		}
		if len(words) == 2 {
			break
		}
	}
	switch {
	case len(words) == 0:
		return ""
	case words[0] == "image" && len(words) == 2:
		return map[string]string{"rm": "rmi", "build": "build", "prune": "prune"}[words[1]]
	}
	return words[0]
}

// Podman runs podman against the world's store and returns its stdout.
func Podman(ctx context.Context, c Conf, args ...string) (string, error) {
	switch podmanVerb(args) {
	case "rmi", "prune":
		storeLock.Lock()
		defer storeLock.Unlock()
	case "build":
		storeLock.RLock()
		defer storeLock.RUnlock()
	}
	cmd := exec.CommandContext(ctx, "podman", args...)
	cmd.Env = append(os.Environ(), c.Env()...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("podman %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// loadImage puts the image into the podman store under its name, unless the
// store already has that name at that digest. The copy is ours
// (containers/image into containers/storage), not podman's: podman would
// name an image pulled from an OCI layout after the layout's path.
func loadImage(ctx context.Context, c Conf, root string, img Image) error {
	if d, err := Podman(ctx, c, "image", "inspect", "--format", "{{.Digest}}", img.Name); err == nil {
		if d == img.Digest {
			return nil
		}
		if _, err := Podman(ctx, c, "rmi", "-f", img.Name); err != nil {
			return err
		}
	}
	if err := copyToStore(ctx, root, img); err != nil {
		return err
	}
	d, err := Podman(ctx, c, "image", "inspect", "--format", "{{.Digest}}", img.Name)
	if err != nil {
		return err
	}
	if d != img.Digest {
		return fmt.Errorf("%s loaded with digest %s, want %s", img.Name, d, img.Digest)
	}
	return nil
}

func copyToStore(ctx context.Context, root string, img Image) (err error) {
	store, err := storage.GetStore(storagetypes.StoreOptions{
		GraphRoot: filepath.Join(root, "podman", "graph"), RunRoot: filepath.Join(root, "podman", "run"),
		GraphDriverName: "overlay",
	})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() {
		// Another process's mounted container (a build running on the
		// store) keeps its layer mounted: not ours to unmount, not an error.
		if _, serr := store.Shutdown(false); err == nil && serr != nil && !errors.Is(serr, storage.ErrLayerUsedByContainer) {
			err = fmt.Errorf("close store: %w", serr)
		}
	}()
	dst, err := istorage.Transport.ParseStoreReference(store, img.Name)
	if err != nil {
		return fmt.Errorf("store reference %s: %w", img.Name, err)
	}
	src, err := layout.NewReference(img.Layout, img.Ref)
	if err != nil {
		return fmt.Errorf("oci layout %s: %w", img.Layout, err)
	}
	policy, err := acceptAnything()
	if err != nil {
		return err
	}
	defer policy.Destroy()
	if _, err := copy.Image(ctx, policy, dst, src, &copy.Options{ReportWriter: io.Discard}); err != nil {
		return fmt.Errorf("copy %s to the store: %w", img.Ref, err)
	}
	return nil
}

// resetCopiedDB removes podman's database when it records another world's
// store: a world copied with cp -a carries it, and podman then silently
// uses the original's graph root ("Overriding graph root ... from
// database"), so the copy's images are invisible to podman. The database
// holds only podman's container records, which belong to the original.
func resetCopiedDB(ctx context.Context, c Conf, root string) error {
	db := filepath.Join(root, "podman", "graph", "libpod", "bolt_state.db")
	if _, err := os.Stat(db); err != nil {
		return nil
	}
	got, err := Podman(ctx, c, "info", "--format", "{{.Store.GraphRoot}}")
	if err != nil {
		return err
	}
	if want := filepath.Join(root, "podman", "graph"); got != want {
		return os.Remove(db)
	}
	return nil
}
