package sbom

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/pkg/blobinfocache/none"
	"go.podman.io/image/v5/pkg/compression"
	"go.podman.io/image/v5/types"
)

// ErrNone says an image holds no SBOM of pys2i's.
var ErrNone = errors.New("the image has no pys2i SBOM (it was not built by pys2i, or by a version before SBOMs)")

// maxDocument bounds a document read from an image.
const maxDocument = 64 << 20

// Read returns the document of format f inside the image at ref (any
// transport): the file at f.File() in its topmost layer that has it, the
// SBOM layer being the last one pys2i writes.
func Read(ctx context.Context, sys *types.SystemContext, ref types.ImageReference, f Format) ([]byte, error) {
	src, err := ref.NewImageSource(ctx, sys)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", transportName(ref), err)
	}
	defer src.Close()
	img, err := image.FromUnparsedImage(ctx, sys, image.UnparsedInstance(src, nil))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", transportName(ref), err)
	}
	want := strings.TrimPrefix(f.File(), "/")
	// As a copy reads them: a store serves its layers by other digests.
	layers, err := src.LayerInfosForCopy(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", transportName(ref), err)
	}
	if layers == nil {
		for _, l := range img.LayerInfos() {
			layers = append(layers, l)
		}
	}
	for i := len(layers) - 1; i >= 0; i-- {
		doc, found, gone, err := readLayer(ctx, src, layers[i], want)
		if err != nil {
			return nil, fmt.Errorf("read %s: layer %s: %w", transportName(ref), layers[i].Digest, err)
		}
		if found {
			return doc, nil
		}
		if gone {
			break // deleted by this layer
		}
	}
	return nil, ErrNone
}

func transportName(ref types.ImageReference) string {
	return ref.Transport().Name() + ":" + ref.StringWithinTransport()
}

// readLayer looks for name in one layer: its content, or whether the layer
// deletes it (a whiteout of it or of a directory above it).
func readLayer(ctx context.Context, src types.ImageSource, info types.BlobInfo, name string) (doc []byte, found, gone bool, err error) {
	rc, _, err := src.GetBlob(ctx, info, none.NoCache)
	if err != nil {
		return nil, false, false, err
	}
	defer rc.Close()
	r, _, err := compression.AutoDecompress(rc)
	if err != nil {
		return nil, false, false, err
	}
	defer r.Close()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, false, gone, nil
		}
		if err != nil {
			return nil, false, false, err
		}
		n := strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")
		if n == name && (hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA) {
			if hdr.Size > maxDocument {
				return nil, false, false, fmt.Errorf("%s is %d bytes: not an SBOM of pys2i's", name, hdr.Size)
			}
			doc, err := io.ReadAll(tr)
			return doc, err == nil, false, err
		}
		dir, base := path.Split(n)
		if strings.HasPrefix(base, ".wh.") {
			target := path.Join(dir, strings.TrimPrefix(base, ".wh."))
			if base == ".wh..wh..opq" {
				target = strings.TrimSuffix(dir, "/")
			}
			if name == target || strings.HasPrefix(name, target+"/") {
				gone = true
			}
		}
	}
}

// FromLayer returns the documents in an SBOM layer (an uncompressed tar,
// as the build writes it), by format.
func FromLayer(r io.Reader) (map[Format][]byte, error) {
	want := map[string]Format{}
	for _, f := range Formats {
		want[strings.TrimPrefix(f.File(), "/")] = f
	}
	docs := map[Format][]byte{}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sbom layer: %w", err)
		}
		f, ok := want[strings.TrimPrefix(path.Clean("/"+hdr.Name), "/")]
		if !ok || hdr.Typeflag != tar.TypeReg || hdr.Size > maxDocument {
			continue
		}
		if docs[f], err = io.ReadAll(tr); err != nil {
			return nil, fmt.Errorf("sbom layer: %w", err)
		}
	}
	if len(docs) != len(Formats) {
		return nil, fmt.Errorf("sbom layer: %d of %d documents", len(docs), len(Formats))
	}
	return docs, nil
}
