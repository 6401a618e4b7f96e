package wheel

import (
	"crypto/sha256"
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
)

// RecordRow is one row of a RECORD file (PEP 376): path, hash, size.
type RecordRow struct{ Path, Hash, Size string }

// RecordHash is the RECORD form of a file's sha256: "sha256=" and the
// urlsafe base64 digest without padding.
func RecordHash(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// ParseRecord reads a RECORD file as Python's csv module does for the
// rows pip reads (fields separated by commas, optionally double-quoted).
func ParseRecord(text string) [][]string {
	var rows [][]string
	text = strings.ReplaceAll(text, "\r\n", "\n")
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		rows = append(rows, splitCSV(line))
	}
	return rows
}

func splitCSV(line string) []string {
	var fields []string
	var cur strings.Builder
	inQ := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case inQ && c == '"' && i+1 < len(line) && line[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"' && (inQ || cur.Len() == 0):
			inQ = !inQ
		case c == ',' && !inQ:
			fields = append(fields, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(fields, cur.String())
}

// RenderRecord writes rows as pip does: sorted, csv with QUOTE_MINIMAL
// and "\r\n" line ends (Python's csv.writer defaults).
func RenderRecord(rows []RecordRow) []byte {
	sorted := append([]RecordRow(nil), rows...)
	sort.Slice(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Hash != b.Hash {
			return a.Hash < b.Hash
		}
		return a.Size < b.Size
	})
	var b strings.Builder
	for _, r := range sorted {
		b.WriteString(csvField(r.Path) + "," + csvField(r.Hash) + "," + csvField(r.Size) + "\r\n")
	}
	return []byte(b.String())
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\r\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// recordRows is pip's get_csv_rows_for_installed: the wheel's RECORD rows
// with their paths mapped to where the files went (installed: wheel path
// to RECORD path), changed files rehashed, then the generated files, then
// the installed files the RECORD did not list (pyc files) without hash.
// installedOrder keeps pip's dict order for the last group.
func recordRows(old [][]string, installed map[string]string, installedOrder []string, changed map[string][]byte, generated []RecordRow) []RecordRow {
	inst := make(map[string]string, len(installed))
	for k, v := range installed {
		inst[k] = v
	}
	var rows []RecordRow
	for _, row := range old {
		if len(row) == 0 {
			continue
		}
		p := row[0]
		np, ok := inst[p]
		if ok {
			delete(inst, p)
		} else {
			np = p
		}
		if content, ok := changed[np]; ok {
			rows = append(rows, RecordRow{np, RecordHash(content), strconv.Itoa(len(content))})
			continue
		}
		r := RecordRow{Path: np}
		if len(row) > 1 {
			r.Hash = row[1]
		}
		if len(row) > 2 {
			r.Size = row[2]
		}
		rows = append(rows, r)
	}
	rows = append(rows, generated...)
	for _, k := range installedOrder {
		if v, ok := inst[k]; ok {
			rows = append(rows, RecordRow{Path: v})
			delete(inst, k)
		}
	}
	return rows
}
