package imagebuild

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/pys2i/pys2i/assemble/artifacts"
	"github.com/pys2i/pys2i/imagebuild/cacheprune"
	"github.com/pys2i/pys2i/imagebuild/options"
	"github.com/pys2i/pys2i/imagebuild/sandbox"
	"github.com/pys2i/pys2i/internal/contract"
	"github.com/pys2i/pys2i/internal/envlist"
)

// pipCacheDir is the host directory that keeps pip's cache between builds of
// one output name, as a BuildKit cache mount does: next to the image store
// (its graph root's parent, pys2i-cache/pip/), keyed by the output name, so
// that a dependency change downloads and builds only what changed. It is
// mounted into assemble's sandbox and never committed.
func pipCacheDir(graphRoot, tag string) string {
	sum := sha256.Sum256([]byte(tag))
	return filepath.Join(pipCacheRoot(graphRoot), hex.EncodeToString(sum[:8]))
}

// pipCacheRoot holds the pip caches of all TAGs.
func pipCacheRoot(graphRoot string) string {
	return filepath.Join(filepath.Dir(graphRoot), "pys2i-cache", "pip")
}

// pipCacheMount prepares the cache directory (owned by the assemble user,
// private, held as in use until release: see cacheprune.Use) and its mount
// point in the container root (StateDir/pip-cache, where assemble points
// PIP_CACHE_DIR), and returns the mount. It returns nothing when assemble
// runs without a cache (PYS2I_NO_CACHE) or restores one from save-artifacts
// (an incremental build).
func pipCacheMount(root, hostDir, state string, env []string, uid, gid int, incremental bool) (_ []sandbox.Mount, release func() error, err error) {
	release = func() error { return nil }
	if envlist.Get(env, contract.EnvNoCache) != "" || incremental {
		return nil, release, nil
	}
	held, err := cacheprune.Use(hostDir)
	if err != nil {
		return nil, nil, fmt.Errorf("pip cache: %w", err)
	}
	defer func() {
		if err != nil {
			held()
		}
	}()
	if err := os.Chown(hostDir, uid, gid); err != nil {
		return nil, nil, fmt.Errorf("pip cache: %w", err)
	}
	// The state dir and the mount point are made here as the assemble
	// user's: the sandbox would make missing mount points root's.
	for _, d := range []string{state, path.Join(state, artifacts.CacheDir)} {
		p, err := securejoin.SecureJoin(root, d)
		if err != nil {
			return nil, nil, fmt.Errorf("pip cache: %w", err)
		}
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		if err := os.Mkdir(p, 0o775); err != nil {
			return nil, nil, fmt.Errorf("pip cache: %w", err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			return nil, nil, fmt.Errorf("pip cache: %w", err)
		}
	}
	return []sandbox.Mount{{Source: hostDir, Target: path.Join(state, artifacts.CacheDir)}}, held, nil
}

// prunePipCaches bounds the pip caches of all TAGs (the build's own is in
// use, so it stays). A failure is only a warning: the build goes on.
func prunePipCaches(graphRoot string, o options.Options, now time.Time, logf func(string, ...any)) {
	removed, err := cacheprune.Prune(pipCacheRoot(graphRoot), cacheprune.Limits{MaxAge: o.PipCacheMaxAge, MaxSize: o.PipCacheMaxSize}, now)
	if len(removed) > 0 {
		logf("pys2i: removed %d pip cache(s) of other TAGs, unused for longer than --pip-cache-max-age or over --pip-cache-max-size: %s",
			len(removed), strings.Join(removed, " "))
	}
	if err != nil {
		logf("warning: pip caches: %v", err)
	}
}

// underPath reports whether rel (no leading "/") is p (absolute) or inside it.
func underPath(rel, p string) bool {
	p = strings.Trim(path.Clean(p), "/")
	return rel == p || strings.HasPrefix(rel, p+"/")
}
