package pyindex

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var nameRuns = regexp.MustCompile(`[-_.]+`)

// NormalizeName is the PEP 503 normalized form of a project name: lowercase,
// runs of "-", "_" and "." become one "-" ("Flask" -> "flask",
// "charset_normalizer" -> "charset-normalizer", "zope.interface" ->
// "zope-interface").
func NormalizeName(name string) string {
	return strings.ToLower(nameRuns.ReplaceAllString(name, "-"))
}

// EscapeName is the form of a project name used in wheel file names and
// .dist-info folders (binary distribution format spec): runs of "-", "_"
// and "." become "_", case kept ("poetry-core" -> "poetry_core").
func EscapeName(name string) string {
	return nameRuns.ReplaceAllString(name, "_")
}

// SdistFileName is the PEP 625 file name of a source distribution:
// lowercase escaped name, "-", version, ".tar.gz" ("mod-wsgi", "5.0.2" ->
// "mod_wsgi-5.0.2.tar.gz"; "uWSGI" -> "uwsgi-...").
func SdistFileName(project, version string) string {
	return strings.ToLower(EscapeName(project)) + "-" + version + ".tar.gz"
}

// WheelFileName is "<escaped name>-<version>-<tag>.whl".
func WheelFileName(project, version, tag string) string {
	return EscapeName(project) + "-" + strings.ReplaceAll(version, "-", "_") + "-" + tag + ".whl"
}

// File is one file of a wheel.
type File struct {
	Name string // slash-separated path inside the wheel
	Data []byte
	Exec bool // stored with mode 0755 instead of 0644
}

// The fixed time of every entry: 1980-01-01 00:00:00, the DOS epoch.
const (
	dosDate1980 = 1<<5 | 1 // year 0 (1980), month 1, day 1
	dosTime0    = 0
)

// DistInfo returns the single top-level "*.dist-info" folder that holds a
// METADATA file.
func DistInfo(files []File) (string, error) {
	found := ""
	for _, f := range files {
		dir, base := path.Split(f.Name)
		dir = strings.TrimSuffix(dir, "/")
		if base == "METADATA" && strings.HasSuffix(dir, ".dist-info") && !strings.Contains(dir, "/") {
			if found != "" && found != dir {
				return "", fmt.Errorf("two .dist-info folders: %s and %s", found, dir)
			}
			found = dir
		}
	}
	if found == "" {
		return "", fmt.Errorf("no *.dist-info/METADATA")
	}
	return found, nil
}

// RecordHash is the hash form of a RECORD line: "sha256=" + urlsafe base64
// without padding.
func RecordHash(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:])
}

func validWheelPath(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") ||
		path.Clean(name) != name || name == "." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("invalid path %q in wheel", name)
	}
	return nil
}

// WriteWheel writes files as a normalized, byte-reproducible wheel: no
// directory entries; regular files sorted by name, the .dist-info folder
// last and its RECORD (regenerated, with sha256 hashes and sizes) the very
// last entry; every entry deflated, dated 1980-01-01 00:00 and stored with
// Unix mode 0644, or 0755 for executables. Any RECORD, RECORD.jws or
// RECORD.p7s among files is dropped.
func WriteWheel(w io.Writer, files []File) error {
	distInfo, err := DistInfo(files)
	if err != nil {
		return err
	}
	record := distInfo + "/RECORD"
	var body, meta []File
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f.Name, "/") {
			continue // directory entry
		}
		if err := validWheelPath(f.Name); err != nil {
			return err
		}
		switch f.Name {
		case record, record + ".jws", record + ".p7s":
			continue
		}
		if seen[f.Name] {
			return fmt.Errorf("duplicate entry %q in wheel", f.Name)
		}
		seen[f.Name] = true
		if strings.HasPrefix(f.Name, distInfo+"/") {
			meta = append(meta, f)
		} else {
			body = append(body, f)
		}
	}
	byName := func(s []File) {
		sort.Slice(s, func(i, j int) bool { return s[i].Name < s[j].Name })
	}
	byName(body)
	byName(meta)
	ordered := append(body, meta...)

	var rec bytes.Buffer
	cw := csv.NewWriter(&rec)
	for _, f := range ordered {
		if err := cw.Write([]string{f.Name, RecordHash(f.Data), strconv.Itoa(len(f.Data))}); err != nil {
			return err
		}
	}
	if err := cw.Write([]string{record, "", ""}); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	ordered = append(ordered, File{Name: record, Data: rec.Bytes()})

	zw := zip.NewWriter(w)
	for _, f := range ordered {
		h := &zip.FileHeader{
			Name:         f.Name,
			Method:       zip.Deflate,
			ModifiedDate: dosDate1980,
			ModifiedTime: dosTime0,
		}
		if f.Exec {
			h.SetMode(0o755)
		} else {
			h.SetMode(0o644)
		}
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// WheelBytes is WriteWheel into memory.
func WheelBytes(files []File) ([]byte, error) {
	var b bytes.Buffer
	if err := WriteWheel(&b, files); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ReadWheel returns the regular files of a wheel (or any zip); a file is
// executable if its Unix mode has an x bit.
func ReadWheel(data []byte) ([]File, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	var files []File
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/") || zf.FileInfo().IsDir() {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", zf.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", zf.Name, err)
		}
		exec := zf.CreatorVersion>>8 == 3 && (zf.ExternalAttrs>>16)&0o111 != 0
		files = append(files, File{Name: zf.Name, Data: b, Exec: exec})
	}
	return files, nil
}

// NormalizeWheel rewrites a wheel with WriteWheel.
func NormalizeWheel(data []byte) ([]byte, error) {
	files, err := ReadWheel(data)
	if err != nil {
		return nil, err
	}
	return WheelBytes(files)
}

// VerifyRecord checks that the RECORD of a wheel lists every other entry
// exactly once with the right sha256 and size.
func VerifyRecord(data []byte) error {
	files, err := ReadWheel(data)
	if err != nil {
		return err
	}
	distInfo, err := DistInfo(files)
	if err != nil {
		return err
	}
	byName := map[string][]byte{}
	var rec []byte
	for _, f := range files {
		if f.Name == distInfo+"/RECORD" {
			rec = f.Data
			continue
		}
		byName[f.Name] = f.Data
	}
	if rec == nil {
		return fmt.Errorf("no %s/RECORD", distInfo)
	}
	rows, err := csv.NewReader(bytes.NewReader(rec)).ReadAll()
	if err != nil {
		return fmt.Errorf("RECORD: %w", err)
	}
	listed := map[string]bool{}
	for _, row := range rows {
		if len(row) != 3 {
			return fmt.Errorf("RECORD: bad row %q", row)
		}
		if row[0] == distInfo+"/RECORD" {
			continue
		}
		b, ok := byName[row[0]]
		if !ok {
			return fmt.Errorf("RECORD lists %s, not in the wheel", row[0])
		}
		if listed[row[0]] {
			return fmt.Errorf("RECORD lists %s twice", row[0])
		}
		listed[row[0]] = true
		if row[1] != RecordHash(b) || row[2] != strconv.Itoa(len(b)) {
			return fmt.Errorf("RECORD: %s: have %s,%s want %s,%d", row[0], row[1], row[2], RecordHash(b), len(b))
		}
	}
	for n := range byName {
		if !listed[n] {
			return fmt.Errorf("%s not in RECORD", n)
		}
	}
	return nil
}

// header is one field of core metadata (RFC 822 style); Value keeps
// continuation lines, joined with "\n".
type header struct{ Key, Value string }

type metadata struct {
	headers []header
	body    string
}

func parseMetadata(b []byte) metadata {
	var m metadata
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	i := 0
	for ; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			i++
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(m.headers) > 0 {
			m.headers[len(m.headers)-1].Value += "\n" + line
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		m.headers = append(m.headers, header{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	if i < len(lines) {
		m.body = strings.Join(lines[i:], "\n")
	}
	return m
}

func (m metadata) get(key string) string {
	for _, h := range m.headers {
		if strings.EqualFold(h.Key, key) {
			return h.Value
		}
	}
	return ""
}

func (m metadata) all(key string) []string {
	var out []string
	for _, h := range m.headers {
		if strings.EqualFold(h.Key, key) {
			out = append(out, h.Value)
		}
	}
	return out
}

// wheelMetadata reads Name, Version and Requires-Python from a wheel's
// METADATA.
func wheelMetadata(files []File) (name, version, requiresPython string, err error) {
	distInfo, err := DistInfo(files)
	if err != nil {
		return "", "", "", err
	}
	for _, f := range files {
		if f.Name == distInfo+"/METADATA" {
			m := parseMetadata(f.Data)
			name, version = m.get("Name"), m.get("Version")
			if name == "" || version == "" {
				return "", "", "", fmt.Errorf("%s/METADATA lacks Name or Version", distInfo)
			}
			return name, version, m.get("Requires-Python"), nil
		}
	}
	return "", "", "", fmt.Errorf("no %s/METADATA", distInfo)
}
