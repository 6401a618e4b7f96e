package images

import (
	"encoding/json"
	"fmt"
	"os"
)

// CheckAuthFile checks that path is a readable auth file in Docker's
// config.json (or containers' auth.json) format: an object, whose "auths"
// (if any) is an object. containers/image would silently ignore a missing
// file, and a typo would then look like a permission problem at the registry.
func CheckAuthFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("registry auth file: %w", err)
	}
	var v struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		// The message never quotes the file: it holds credentials.
		return fmt.Errorf("registry auth file %s: not a JSON auth file (want {\"auths\": {...}})", path)
	}
	return nil
}
