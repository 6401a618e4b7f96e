// Package fixperms grants group 0 the owner's permissions so that an image runs
// under an arbitrary UID, as the upstream fix-permissions script does.
package fixperms
