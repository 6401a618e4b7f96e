// Package buildpaths makes the compiled extensions that pip builds from an
// sdist byte-reproducible. pip builds each sdist in a fresh random
// directory ($TMPDIR/pip-install-<8 random>/<name>_<32 hex>), and compilers
// record that directory in what they build (DWARF's DW_AT_comp_dir,
// __FILE__ strings); the linker's GNU build ID hashes those bytes too. So
// two builds of the same source differ. Two remedies: CompilerFlags maps
// the directories to fixed placeholders as the compiler runs (assemble puts
// a wrapper that adds them in CC and CXX), and Normalize, for what was
// compiled without them, replaces the random parts with the same
// placeholders afterwards, so that no offset moves, and recomputes the
// build ID: what rpm's debugedit does for packages. Only the first is sure
// to give the same bytes: a linker may have ordered merged strings by their
// content, random parts included.
package buildpaths

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

// mkdtempAlphabet is what Python's tempfile.mkdtemp draws its 8 random
// characters from.
const mkdtempAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789_"

// Placeholders of the same length as what they replace: mkdtemp's template
// convention for the random name, the nil UUID for pip's uuid4().hex.
const (
	randomName = "XXXXXXXX"
	randomHex  = "00000000000000000000000000000000"
)

// Scrub replaces, in b, the random parts of pip's temporary directories:
// "/pip-<kind>-<8 random>" (tempfile.mkdtemp(prefix="pip-<kind>-")) and,
// right below one, "<name>_<32 hex>" (pip's per-requirement build
// directory). It returns how many directories it changed; b keeps its
// length.
func Scrub(b []byte) int {
	n := 0
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("/pip-"))
		if j < 0 {
			return n
		}
		start := i + j + len("/pip-")
		end := start + span(b[start:], "abcdefghijklmnopqrstuvwxyz0123456789_-")
		i = end
		tok := b[start:end]
		if !isMkdtempName(tok) {
			if end == start {
				i = start
			}
			continue
		}
		rnd := tok[len(tok)-len(randomName):]
		if string(rnd) != randomName {
			copy(rnd, randomName)
			n++
		}
		if end < len(b) && b[end] == '/' {
			sub := end + 1
			subEnd := sub + span(b[sub:], "abcdefghijklmnopqrstuvwxyz0123456789_-.")
			if h, ok := uuidHex(b[sub:subEnd]); ok && string(h) != randomHex {
				copy(h, randomHex)
			}
			i = subEnd
		}
	}
}

// isMkdtempName reports whether tok is "<kind>-<8 random>": kind is pip's
// lower-case hyphenated name for the directory (install, req-build,
// build-env, ...).
func isMkdtempName(tok []byte) bool {
	k := len(tok) - len(randomName) - 1
	if k < 1 || tok[k] != '-' {
		return false
	}
	for _, c := range tok[k+1:] {
		if bytes.IndexByte([]byte(mkdtempAlphabet), c) < 0 {
			return false
		}
	}
	kind := tok[:k]
	if kind[0] == '-' || kind[len(kind)-1] == '-' || bytes.Contains(kind, []byte("--")) {
		return false
	}
	for _, c := range kind {
		if c != '-' && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// uuidHex returns the 32 hex digits that end comp, "<name>_<32 hex>".
func uuidHex(comp []byte) ([]byte, bool) {
	if len(comp) < len(randomHex)+2 || comp[len(comp)-len(randomHex)-1] != '_' {
		return nil, false
	}
	h := comp[len(comp)-len(randomHex):]
	if span(h, "0123456789abcdef") != len(h) {
		return nil, false
	}
	return h, true
}

// span is the length of the prefix of b made of bytes in set.
func span(b []byte, set string) int {
	for i, c := range b {
		if !bytes.ContainsRune([]byte(set), rune(c)) {
			return i
		}
	}
	return len(b)
}

// IsELF reports whether b starts like an ELF file.
func IsELF(b []byte) bool { return bytes.HasPrefix(b, []byte(elf.ELFMAG)) }

// Normalize scrubs pip's random build directories out of the ELF file b, in
// place, and then gives it a build ID computed from its new bytes. It
// reports whether b changed; anything but ELF is left alone.
func Normalize(b []byte) (bool, error) {
	if !IsELF(b) {
		return false, nil
	}
	if Scrub(b) == 0 {
		return false, nil
	}
	if err := RehashBuildID(b); err != nil {
		return true, err
	}
	return true, nil
}

// RehashBuildID recomputes the GNU build ID of the ELF file b in place, as
// the linker computes it: a hash of the whole file with the ID zeroed. The
// hash is SHA-256, cut (or repeated) to the ID's length. A file without a
// build ID is left as is.
func RehashBuildID(b []byte) error {
	off, size, err := BuildID(b)
	if err != nil || size == 0 {
		return err
	}
	desc := b[off : off+size]
	clear(desc)
	sum := sha256.Sum256(b)
	for i := range desc {
		desc[i] = sum[i%len(sum)]
	}
	return nil
}

// ntGNUBuildID is the note type of a GNU build ID (NT_GNU_BUILD_ID).
const ntGNUBuildID = 3

// BuildID finds the GNU build ID note of the ELF file b: the offset and
// size of its descriptor in b; size 0 if there is none. Section headers are
// searched first, then program headers (a stripped file may lack sections).
func BuildID(b []byte) (off, size int, err error) {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return 0, 0, fmt.Errorf("read ELF: %w", err)
	}
	defer f.Close()
	var areas [][2]uint64
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOTE {
			areas = append(areas, [2]uint64{s.Offset, s.FileSize})
		}
	}
	if len(areas) == 0 {
		for _, p := range f.Progs {
			if p.Type == elf.PT_NOTE {
				areas = append(areas, [2]uint64{p.Off, p.Filesz})
			}
		}
	}
	for _, a := range areas {
		if a[0] > uint64(len(b)) || a[1] > uint64(len(b))-a[0] {
			return 0, 0, errors.New("read ELF: a note lies outside the file")
		}
		if o, n, ok := findNote(b[a[0]:a[0]+a[1]], f.ByteOrder, ntGNUBuildID, "GNU"); ok {
			return int(a[0]) + o, n, nil
		}
	}
	return 0, 0, nil
}

// findNote walks the notes in area (4-byte aligned, as GNU notes are) for
// one of type typ and owner name; it returns its descriptor's place.
func findNote(area []byte, bo binary.ByteOrder, typ uint32, name string) (int, int, bool) {
	align := func(n int) int { return (n + 3) &^ 3 }
	for p := 0; p+12 <= len(area); {
		nameSize := int(bo.Uint32(area[p:]))
		descSize := int(bo.Uint32(area[p+4:]))
		t := bo.Uint32(area[p+8:])
		nameAt := p + 12
		descAt := nameAt + align(nameSize)
		if nameSize < 0 || descSize < 0 || descAt > len(area) || descSize > len(area)-descAt {
			return 0, 0, false
		}
		if t == typ && string(bytes.TrimRight(area[nameAt:nameAt+nameSize], "\x00")) == name {
			return descAt, descSize, true
		}
		p = descAt + align(descSize)
	}
	return 0, 0, false
}
