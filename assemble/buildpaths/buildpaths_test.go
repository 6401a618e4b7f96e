package buildpaths

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestScrub(t *testing.T) {
	tests := []struct {
		name, in, want string
		n              int
	}{
		{"pip's sdist build directory",
			"\x00/tmp/pip-install-aqfyh8cn/mod-wsgi_a4650d2592764248b0f0314a1b9035fe\x00",
			"\x00/tmp/pip-install-XXXXXXXX/mod-wsgi_00000000000000000000000000000000\x00", 1},
		{"a file below it",
			"/tmp/pip-install-ab_d1234/numpy_0123456789abcdef0123456789abcdef/src/x.c\x00",
			"/tmp/pip-install-XXXXXXXX/numpy_00000000000000000000000000000000/src/x.c\x00", 1},
		{"a dotted name",
			"/var/tmp/pip-install-zzzzzzzz/zope.interface_ffffffffffffffffffffffffffffffff\x00",
			"/var/tmp/pip-install-XXXXXXXX/zope.interface_00000000000000000000000000000000\x00", 1},
		{"req-build (no requirement name) and build-env",
			"/tmp/pip-req-build-k2j3h4g5/a.c\x00/tmp/pip-build-env-0a9b8c7d/overlay/lib/python3.11/site-packages/numpy/core/include\x00",
			"/tmp/pip-req-build-XXXXXXXX/a.c\x00/tmp/pip-build-env-XXXXXXXX/overlay/lib/python3.11/site-packages/numpy/core/include\x00", 2},
		{"twice", "/pip-install-aaaaaaaa/x_0123456789abcdef0123456789abcdef /pip-install-bbbbbbbb/",
			"/pip-install-XXXXXXXX/x_00000000000000000000000000000000 /pip-install-XXXXXXXX/", 2},
		{"already normalized", "/tmp/pip-install-XXXXXXXX/mod-wsgi_00000000000000000000000000000000",
			"/tmp/pip-install-XXXXXXXX/mod-wsgi_00000000000000000000000000000000", 0},
		{"random part too short", "/tmp/pip-install-abc/x", "/tmp/pip-install-abc/x", 0},
		{"random part too long", "/tmp/pip-install-abcdefghi/x", "/tmp/pip-install-abcdefghi/x", 0},
		{"no kind", "/tmp/pip-abcdefgh/x", "/tmp/pip-abcdefgh/x", 0},
		{"kind with digits", "/tmp/pip-inst4ll-abcdefgh/x", "/tmp/pip-inst4ll-abcdefgh/x", 0},
		{"double hyphen", "/tmp/pip-a--abcdefgh/x", "/tmp/pip-a--abcdefgh/x", 0},
		{"not after a slash", "xpip-install-abcdefgh/", "xpip-install-abcdefgh/", 0},
		{"uuid too short", "/pip-install-abcdefgh/x_0123", "/pip-install-XXXXXXXX/x_0123", 1},
		{"uuid not hex", "/pip-install-abcdefgh/x_0123456789abcdef0123456789abcdeg",
			"/pip-install-XXXXXXXX/x_0123456789abcdef0123456789abcdeg", 1},
		{"nothing", "gcc -g -O2 mod_wsgi.c", "gcc -g -O2 mod_wsgi.c", 0},
		{"at the very end", "/pip-", "/pip-", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.in)
			n := Scrub(b)
			if string(b) != tt.want || n != tt.n {
				t.Errorf("Scrub(%q) = %q, %d; want %q, %d", tt.in, b, n, tt.want, tt.n)
			}
		})
	}
}

func TestNormalizeLeavesOtherFilesAlone(t *testing.T) {
	for _, in := range []string{"", "\x7fEL", "#!/bin/sh\n/tmp/pip-install-abcdefgh/x\n"} {
		b := []byte(in)
		did, err := Normalize(b)
		if did || err != nil || string(b) != in {
			t.Errorf("Normalize(%q) = %v, %v, %q", in, did, err, b)
		}
	}
	// An ELF magic with a path but a broken body: scrubbed, then an error
	// from the build ID, never a panic.
	b := []byte("\x7fELF garbage /tmp/pip-install-abcdefgh/x")
	if did, err := Normalize(b); !did || err == nil {
		t.Errorf("broken ELF: %v, %v", did, err)
	}
}

func TestFindNote(t *testing.T) {
	le := func(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	note := func(name string, typ uint32, desc []byte) []byte {
		var b bytes.Buffer
		b.Write(le(uint32(len(name) + 1)))
		b.Write(le(uint32(len(desc))))
		b.Write(le(typ))
		b.WriteString(name + "\x00")
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		b.Write(desc)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		return b.Bytes()
	}
	abi := note("GNU", 1, make([]byte, 16))
	id := note("GNU", ntGNUBuildID, bytes.Repeat([]byte{0xab}, 20))
	other := note("XYZ", ntGNUBuildID, []byte{1, 2, 3, 4})
	tests := []struct {
		name      string
		area      []byte
		off, size int
		ok        bool
	}{
		{"after an ABI tag", append(append([]byte{}, abi...), id...), len(abi) + 16, 20, true},
		{"alone", id, 16, 20, true},
		{"another owner", other, 0, 0, false},
		{"none", abi, 0, 0, false},
		{"truncated", id[:20], 0, 0, false},
		{"empty", nil, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off, size, ok := findNote(tt.area, binary.LittleEndian, ntGNUBuildID, "GNU")
			if off != tt.off || size != tt.size || ok != tt.ok {
				t.Errorf("findNote = %d, %d, %v; want %d, %d, %v", off, size, ok, tt.off, tt.size, tt.ok)
			}
		})
	}
}
