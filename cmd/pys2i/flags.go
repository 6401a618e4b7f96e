package main

import (
	"github.com/spf13/pflag"

	"github.com/pys2i/pys2i/imagebuild/images"
	"github.com/pys2i/pys2i/imagebuild/options"
)

// addSandboxFlags adds s2i's container flags, which here apply to pys2i's
// sandbox, and the registry and callback flags.
func addSandboxFlags(f *pflag.FlagSet) {
	f.StringArrayP("inject", "i", nil, "copy a host file or directory into the build container before assemble: SRC:DST (repeatable, ';' separates); emptied after assemble and never in the image")
	f.StringArrayP("volume", "v", nil, "bind-mount a host path into assemble's sandbox: SRC:DST[:ro|rw] (repeatable)")
	f.String("network", string(options.NetworkHost), "assemble's network: host, or none (a network namespace with only loopback)")
	f.StringArray("cap-drop", nil, "capabilities to drop from assemble's process, comma-separated (CAP_NET_RAW, net_raw, ALL)")
	f.StringArray("add-host", nil, "extra /etc/hosts entry for assemble: HOST:IP (repeatable)")
	f.String("callback-url", "", `URL to POST {"success":...,"labels":{...}} to when the build ends, success or failure`)
	f.String("dockercfg-path", "", "registry auth file (Docker config.json format; default $REGISTRY_AUTH_FILE, else the containers/image defaults, ~/.docker/config.json included)")
}

// addCacheFlags adds the bounds of the pip caches kept between builds.
func addCacheFlags(f *pflag.FlagSet) {
	f.String("pip-cache-max-age", options.DefaultPipCacheMaxAge, "remove pip caches (one per TAG) not used for this long: days (30d) or a duration (12h); 0 for no bound")
	f.String("pip-cache-max-size", options.DefaultPipCacheMaxSize, "then remove the least recently used pip caches while all of them take more than this (10GiB, 512M); 0 for no bound")
}

// checkAuthFile refuses a --dockercfg-path that cannot be used.
func checkAuthFile(o options.Options) error {
	if o.DockerCfgPath == "" {
		return nil
	}
	return images.CheckAuthFile(o.DockerCfgPath)
}
