package wheel

import (
	"bufio"
	"fmt"
	"regexp"
	"strings"
)

// EntryPoint is one console_scripts or gui_scripts entry.
type EntryPoint struct {
	Name, Value string
	GUI         bool
}

// ParseEntryPoints reads entry_points.txt as importlib.metadata does
// ("[group]" sections, "name = value" lines, '#' comments) and returns the
// console scripts then the gui scripts, each in file order with a later
// duplicate name replacing the value of the first (a dict).
func ParseEntryPoints(text string) (console, gui []EntryPoint) {
	var group string
	add := func(list []EntryPoint, ep EntryPoint) []EntryPoint {
		for i := range list {
			if list[i].Name == ep.Name {
				list[i].Value = ep.Value
				return list
			}
		}
		return append(list, ep)
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			group = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		ep := EntryPoint{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)}
		switch group {
		case "console_scripts":
			console = add(console, ep)
		case "gui_scripts":
			ep.GUI = true
			gui = add(gui, ep)
		}
	}
	return console, gui
}

// entryRE is distlib's export entry: module[:attr.attr] [flags].
var entryRE = regexp.MustCompile(`^(\w+(?:\.\w+)*)\s*(?::\s*(\w+(?:\.\w+)*))?\s*(?:\[\s*[\w-]+(?:=\w+)?(?:,\s*\w+(?:=\w+)?)*\s*\])?$`)

// ScriptText renders an entry point's script as pip's PipScriptMaker does:
// the shebang, then distlib's template with module, import_name and func
// (template uses Python %(key)s substitution).
func ScriptText(ep EntryPoint, shebang, template string) ([]byte, error) {
	m := entryRE.FindStringSubmatch(ep.Value)
	if m == nil {
		return nil, fmt.Errorf("entry point %s = %s: not module:callable", ep.Name, ep.Value)
	}
	if m[2] == "" {
		return nil, fmt.Errorf("invalid script entry point: %s = %s - a callable suffix is required", ep.Name, ep.Value)
	}
	module, suffix := m[1], m[2]
	importName, _, _ := strings.Cut(suffix, ".")
	text := strings.NewReplacer("%(module)s", module, "%(import_name)s", importName, "%(func)s", suffix, "%%", "%").Replace(template)
	return []byte(shebang + text), nil
}

// pipOwnScripts are entry point names pip renames (pip, pipX.Y,
// easy_install-X.Y): this installer leaves their distributions to pip.
var pipOwnScripts = regexp.MustCompile(`^(pip(\d+(\.\d+)?)?|easy_install(-\d+\.\d+)?)$`)
