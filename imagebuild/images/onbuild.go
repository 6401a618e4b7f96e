package images

import (
	"context"
	"encoding/json"
	"fmt"

	"go.podman.io/image/v5/types"
)

// OnBuild returns ref's ONBUILD instructions, read from its raw config
// blob: Docker schema2 configs carry them (config.OnBuild); OCI configs
// have no such field, and the OCI view of an image drops them.
func OnBuild(ctx context.Context, sys *types.SystemContext, ref types.ImageReference) ([]string, error) {
	img, err := ref.NewImage(ctx, sys)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", refString(ref), err)
	}
	defer img.Close()
	blob, err := img.ConfigBlob(ctx)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: config: %w", refString(ref), err)
	}
	return parseOnBuild(blob)
}

func parseOnBuild(blob []byte) ([]string, error) {
	var cfg struct {
		Config struct {
			OnBuild []string `json:"OnBuild"`
		} `json:"config"`
	}
	if err := json.Unmarshal(blob, &cfg); err != nil {
		return nil, fmt.Errorf("read ONBUILD instructions: config: %w", err)
	}
	return cfg.Config.OnBuild, nil
}
