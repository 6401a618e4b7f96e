// Package redact hides credentials before text is logged or stored in an
// image: the user:password part of URLs, and the values of build variables.
package redact

import "regexp"

// userinfo matches the "user:pass@" of a scheme://user:pass@host URL anywhere
// in a string; a password must percent-encode '/', '@' and spaces, so they end it.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@`)

// URL replaces the user info of every URL in s by "***@", e.g.
// "https://u:p@host/x" becomes "https://***@host/x". Text without such a URL
// comes back unchanged.
func URL(s string) string {
	return userinfo.ReplaceAllString(s, "${1}***@")
}
