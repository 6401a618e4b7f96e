package options

import (
	"strings"
	"testing"

	"github.com/pys2i/pys2i/imagebuild/images"
)

// settingsMap are Settings from a map; a missing name is the zero value.
type settingsMap map[string]any

func (m settingsMap) GetString(n string) string { s, _ := m[n].(string); return s }
func (m settingsMap) GetBool(n string) bool     { b, _ := m[n].(bool); return b }
func (m settingsMap) GetInt(n string) int       { i, _ := m[n].(int); return i }
func (m settingsMap) List(n string) []string    { l, _ := m[n].([]string); return l }

func TestFromSettings(t *testing.T) {
	s := settingsMap{"pull-policy": "never", "incremental-pull-policy": "always", "runtime-pull-policy": "if-not-present",
		"env": []string{"A=1"}, "volume": []string{"/a:/b:ro"}, "network": "none", "loglevel": 2, "incremental": true,
		"pip-cache-max-age": "0", "pip-cache-max-size": "0"}
	o, err := FromSettings([]string{"https://example.com/app.git#main", "builder", "tag"}, s)
	if err != nil {
		t.Fatal(err)
	}
	if o.Source != "https://example.com/app.git" || o.Builder != "builder" || o.Tag != "tag" || o.PullPolicy != images.PullNever ||
		o.IncrementalPullPolicy != images.PullAlways || o.Env[0] != "A=1" || !o.Volumes[0].ReadOnly || o.Network != NetworkNone ||
		o.LogLevel != 2 || !o.Incremental {
		t.Errorf("options %+v", o)
	}
	s["runtime-pull-policy"] = "sometimes"
	if _, err := FromSettings([]string{"src", "builder"}, s); err == nil || !strings.HasPrefix(err.Error(), "--runtime-pull-policy: ") {
		t.Errorf("bad policy: %v", err)
	}
}
