// Package redact finds credentials in URLs and hides them before text is
// logged or stored in an image: the user:password part of URLs, and the
// values of build variables. It is the one place that knows what the
// credentials of a URL look like.
package redact

import "regexp"

// userinfo matches the "user:pass@" of a scheme://user:pass@host URL anywhere
// in a string. As in a URL parser, the user info is everything up to the
// last '@' before the host's end ('/', '?', '#'); a password must
// percent-encode those and spaces. Quotes and angle brackets never belong
// to a URL, so they end it too (quoted URLs in logs and commands).
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s"<>]*@`)

// URL replaces the user info of every URL in s by "***@", e.g.
// "https://u:p@host/x" becomes "https://***@host/x". Text without such a URL
// comes back unchanged.
func URL(s string) string {
	return userinfo.ReplaceAllString(s, "${1}***@")
}

// StripURL removes the user info of every URL in s, e.g.
// "https://u:p@host/x" becomes "https://host/x": what may be kept where a
// working URL without its secret is wanted (a config file, a fingerprint).
func StripURL(s string) string {
	return userinfo.ReplaceAllString(s, "${1}")
}

// HasCredentials reports whether s holds a URL with user info.
func HasCredentials(s string) bool {
	return userinfo.MatchString(s)
}
