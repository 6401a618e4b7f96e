//go:build linux

package sandbox

// InitMarker lets tests recognise the init in /proc/1/cmdline.
const InitMarker = initMarker
