// Package results writes a build's outcome to the files a pipeline reads:
// Tekton's task results (IMAGE_DIGEST and IMAGE_URL, which Tekton Chains
// signs) and Shipwright's (shp-image-digest, shp-image-size, and
// shp-error-reason and shp-error-message on a failure).
package results

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pys2i/pys2i/internal/atomicfile"
)

// Kind is what a result file holds.
type Kind string

// The kinds of --result KIND=PATH.
const (
	Digest       Kind = "digest"        // the manifest's digest (sha256:...)
	URL          Kind = "url"           // the image's name, as written
	Size         Kind = "size"          // bytes: manifest, config and layers as stored
	ErrorReason  Kind = "error-reason"  // a failed build's reason, one word (AssembleFailed)
	ErrorMessage Kind = "error-message" // a failed build's error
)

var kinds = []Kind{Digest, URL, Size, ErrorReason, ErrorMessage}

// File is one --result: a kind and where it goes.
type File struct {
	Kind Kind
	Path string
}

// Parse reads --result values, KIND=PATH.
func Parse(values []string) ([]File, error) {
	var out []File
	for _, v := range values {
		k, p, ok := strings.Cut(v, "=")
		if !ok || p == "" {
			return nil, fmt.Errorf("invalid --result %q: want KIND=PATH", v)
		}
		known := false
		for _, want := range kinds {
			known = known || Kind(k) == want
		}
		if !known {
			return nil, fmt.Errorf("invalid --result %q: unknown kind %q (want one of %s)", v, k, strings.Join(kindNames(), ", "))
		}
		out = append(out, File{Kind: Kind(k), Path: p})
	}
	return out, nil
}

func kindNames() []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// Outcome is a build's end: the image written, or why not.
type Outcome struct {
	Digest, URL string
	Size        int64
	// Reason and Message say why the build failed; both empty on success.
	Reason, Message string
}

// value is what o says for k, and whether it says anything: an image's
// results on success only, an error's on failure only, so that a pipeline
// never reads a digest of a build that failed.
func (o Outcome) value(k Kind) (string, bool) {
	failed := o.Reason != ""
	switch k {
	case Digest:
		return o.Digest, !failed
	case URL:
		return o.URL, !failed
	case Size:
		return strconv.FormatInt(o.Size, 10), !failed
	case ErrorReason:
		return o.Reason, failed
	case ErrorMessage:
		return o.Message, failed
	}
	return "", false
}

// Write writes each file o has a value for, without a trailing newline (as
// Tekton and Shipwright read them), replacing what was there.
func Write(files []File, o Outcome) error {
	var errs []error
	for _, f := range files {
		v, ok := o.value(f.Kind)
		if !ok {
			continue
		}
		// Whole or not at all: a reader never sees half of it.
		if err := atomicfile.Write(f.Path, []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("result %s: %w", f.Kind, err))
		}
	}
	return errors.Join(errs...)
}
