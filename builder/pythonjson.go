package builder

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode/utf16"

	"github.com/BurntSushi/toml"
)

// pythonJSON encodes v as Python's json.dumps(v, sort_keys=True,
// separators=sep) does (ASCII only, \uXXXX escapes), which is what pipenv
// and poetry hash.
func pythonJSON(buf *bytes.Buffer, v any, itemSep, keySep string) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case float64:
		pythonJSONFloat(buf, x)
	case string:
		pythonJSONString(buf, x)
	case []any:
		return pythonJSONList(buf, x, itemSep, keySep)
	case []map[string]any:
		arr := make([]any, len(x))
		for i := range x {
			arr[i] = x[i]
		}
		return pythonJSON(buf, arr, itemSep, keySep)
	case map[string]any:
		return pythonJSONObject(buf, x, itemSep, keySep)
	default:
		return fmt.Errorf("cannot hash a TOML value of type %T", v)
	}
	return nil
}

// pythonJSONFloat writes a float as Python's repr: integral values keep
// their ".0".
func pythonJSONFloat(buf *bytes.Buffer, x float64) {
	if math.Trunc(x) == x && math.Abs(x) < 1e16 {
		buf.WriteString(strconv.FormatFloat(x, 'f', 1, 64))
	} else {
		buf.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	}
}

// pythonJSONString writes a string with ensure_ascii's escapes: everything
// outside printable ASCII as \uXXXX, beyond the BMP as a surrogate pair.
func pythonJSONString(buf *bytes.Buffer, x string) {
	buf.WriteByte('"')
	for _, r := range x {
		switch {
		case r == '"':
			buf.WriteString(`\"`)
		case r == '\\':
			buf.WriteString(`\\`)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r == '\b':
			buf.WriteString(`\b`)
		case r == '\f':
			buf.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			fmt.Fprintf(buf, `\u%04x`, r)
		case r >= 0x10000:
			a, b := utf16.EncodeRune(r)
			fmt.Fprintf(buf, `\u%04x\u%04x`, a, b)
		default:
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}

func pythonJSONList(buf *bytes.Buffer, x []any, itemSep, keySep string) error {
	buf.WriteByte('[')
	for i, e := range x {
		if i > 0 {
			buf.WriteString(itemSep)
		}
		if err := pythonJSON(buf, e, itemSep, keySep); err != nil {
			return err
		}
	}
	buf.WriteByte(']')
	return nil
}

// pythonJSONObject writes an object with its keys sorted (sort_keys=True).
func pythonJSONObject(buf *bytes.Buffer, x map[string]any, itemSep, keySep string) error {
	keys := make([]string, 0, len(x))
	for k := range x {
		keys = append(keys, k)
	}
	sort.Strings(keys) // Python sorts by code point; Go by bytes: the same for UTF-8
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteString(itemSep)
		}
		pythonJSONString(buf, k)
		buf.WriteString(keySep)
		if err := pythonJSON(buf, x[k], itemSep, keySep); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

func sha256JSON(v any, itemSep, keySep string) (string, error) {
	var buf bytes.Buffer
	if err := pythonJSON(&buf, v, itemSep, keySep); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

// PipfileHash is the hash pipenv writes to Pipfile.lock's _meta.hash.sha256
// (and micropipenv --deploy checks): sha256 of the canonical JSON of the
// sources, requires, packages and dev-packages.
func PipfileHash(pipfile []byte) (string, error) {
	var p map[string]any
	if _, err := toml.Decode(string(pipfile), &p); err != nil {
		return "", &LockError{fmt.Sprintf("Pipfile is not valid TOML: %v", err)}
	}
	get := func(k string) any {
		if v, ok := p[k]; ok {
			return v
		}
		return map[string]any{}
	}
	data := map[string]any{
		"_meta":   map[string]any{"sources": p["source"], "requires": get("requires")},
		"default": get("packages"),
		"develop": get("dev-packages"),
	}
	return sha256JSON(data, ",", ":")
}

// PoetryContentHash is poetry's content-hash of pyproject.toml: sha256 of
// json.dumps of tool.poetry's dependencies, dev-dependencies, source and
// extras (null when missing), plus group when present.
func PoetryContentHash(pyproject []byte) (string, error) {
	var p struct {
		Tool struct {
			Poetry map[string]any `toml:"poetry"`
		} `toml:"tool"`
	}
	if _, err := toml.Decode(string(pyproject), &p); err != nil {
		return "", &LockError{fmt.Sprintf("pyproject.toml is not valid TOML: %v", err)}
	}
	if p.Tool.Poetry == nil {
		return "", &LockError{"pyproject.toml has no [tool.poetry] section"}
	}
	rel := map[string]any{}
	for _, k := range []string{"dependencies", "source", "extras", "dev-dependencies"} {
		rel[k] = p.Tool.Poetry[k]
	}
	if g, ok := p.Tool.Poetry["group"]; ok {
		rel["group"] = g
	}
	return sha256JSON(rel, ", ", ": ")
}
