// Package contract holds the names the two sides of a build share: the host
// side (pys2i build, imagebuild/) sets variables and labels and looks into
// the image at paths that the in-image side (the S2I scripts: assemble/,
// builder/, run/, runtime/) reads and writes. Each name is written here once,
// and both sides use it.
package contract

// Variables pys2i build gives assemble (or a user gives it with -e). A
// switch is on when its value is non-empty.
const (
	// EnvStateDir is assemble's state directory (the fingerprint and pip's
	// cache), outside $APP_ROOT; DefaultStateDir when unset.
	EnvStateDir = "PYS2I_STATE_DIR"
	// EnvNoCache keeps pip's cache off: pys2i build then mounts none.
	EnvNoCache = "PYS2I_NO_CACHE"
	// EnvKeepCache keeps assemble from emptying pip's cache at its end
	// (pys2i build sets it when the cache is the host's mount).
	EnvKeepCache = "PYS2I_KEEP_CACHE"
	// EnvDepsInPlace says, in the sandbox only, that the root already holds
	// the previous build's dependency layer: assemble checks the fingerprint
	// recorded there and skips pip when it matches.
	EnvDepsInPlace = "PYS2I_DEPS_IN_PLACE"
)

// On is the value pys2i build gives a switch it turns on.
const On = "1"

// Labels on a built image that let the next build reuse its dependency
// layer. Fingerprint values are sha256 hashes: no variable's value is in
// them, and URL credentials are left out before hashing, so none can be
// confirmed from them either.
const (
	// LabelDepsLayer is the DiffID of the layer that holds the dependencies
	// (the venv and the fingerprint assemble recorded), right above the
	// builder's layers.
	LabelDepsLayer = "io.pys2i.build.deps-layer"
	// LabelDepsFingerprint is the fingerprint (JSON) assemble recorded in it.
	LabelDepsFingerprint = "io.pys2i.build.deps-fingerprint"
	// LabelDepsUser is the uid:gid that assemble ran as: the owner of the
	// dependency layer's files.
	LabelDepsUser = "io.pys2i.build.deps-user"
	// LabelDepsBuilder (a --runtime-image result) is the ChainID of the
	// builder's layers, where assemble installed the dependencies.
	LabelDepsBuilder = "io.pys2i.build.deps-builder"
	// LabelDepsArtifacts (a --runtime-image result) is what was copied from
	// the builder to where in the runtime image (as JSON).
	LabelDepsArtifacts = "io.pys2i.build.deps-artifacts"
)

// Paths in the image.
const (
	// DefaultAppRoot is $APP_ROOT when the image's Env has none: the S2I
	// images' app root and the venv upstream hard-codes.
	DefaultAppRoot = "/opt/app-root"
	// DefaultHome is $HOME when the image's Env has none: the source.
	DefaultHome = DefaultAppRoot + "/src"
	// DefaultStateDir holds the fingerprint and the pip cache, outside
	// $APP_ROOT (EnvStateDir).
	DefaultStateDir = "/tmp/pys2i"
	// ScriptsDir is where the builder images keep the S2I scripts.
	ScriptsDir = "/usr/libexec/s2i"
)
