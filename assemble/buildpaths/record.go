package buildpaths

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"strconv"
)

// RecordHash is a file's hash as a wheel's RECORD writes it (PEP 376/427):
// "sha256=" and the urlsafe base64 of the digest, without padding.
func RecordHash(content []byte) string {
	sum := sha256.Sum256(content)
	return "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// UpdateRecord gives the row of path (relative to site-packages, as RECORD
// names it) in a RECORD file a new hash (RecordHash) and size. Other rows
// keep their bytes, line endings included. It reports whether the row was
// there.
func UpdateRecord(record []byte, path, hash string, size int) ([]byte, bool) {
	var out bytes.Buffer
	found := false
	for _, line := range bytes.SplitAfter(record, []byte("\n")) {
		body := bytes.TrimRight(line, "\r\n")
		fields, err := csv.NewReader(bytes.NewReader(body)).Read()
		if err != nil || len(fields) != 3 || fields[0] != path {
			out.Write(line)
			continue
		}
		found = true
		var row bytes.Buffer
		w := csv.NewWriter(&row)
		w.Write([]string{path, hash, strconv.Itoa(size)})
		w.Flush()
		out.Write(bytes.TrimRight(row.Bytes(), "\n"))
		out.Write(line[len(body):])
	}
	return out.Bytes(), found
}
