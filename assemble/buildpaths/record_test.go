package buildpaths

import "testing"

func TestUpdateRecord(t *testing.T) {
	content := []byte("new bytes")
	h := RecordHash(content)
	tests := []struct {
		name, in, path, want string
		found                bool
	}{
		{"CRLF rows, as pip writes them",
			"m/x.so,sha256=old,9\r\nm/__init__.py,sha256=abc,0\r\nm-1.dist-info/RECORD,,\r\n", "m/x.so",
			"m/x.so," + h + ",9\r\nm/__init__.py,sha256=abc,0\r\nm-1.dist-info/RECORD,,\r\n", true},
		{"LF rows, the last without an end",
			"a.py,sha256=abc,1\nm/x.so,sha256=old,1234", "m/x.so",
			"a.py,sha256=abc,1\nm/x.so," + h + ",9", true},
		{"a quoted path", "\"m/a,b.so\",sha256=old,1\n", "m/a,b.so", "\"m/a,b.so\"," + h + ",9\n", true},
		{"not listed", "a.py,sha256=abc,1\n", "m/x.so", "a.py,sha256=abc,1\n", false},
		{"a prefix is not the path", "m/x.so.1,sha256=abc,1\n", "m/x.so", "m/x.so.1,sha256=abc,1\n", false},
		{"empty", "", "m/x.so", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found := UpdateRecord([]byte(tt.in), tt.path, h, len(content))
			if string(got) != tt.want || found != tt.found {
				t.Errorf("UpdateRecord = %q, %v; want %q, %v", got, found, tt.want, tt.found)
			}
		})
	}
}

func TestRecordHash(t *testing.T) {
	// sha256 of "" in pip's RECORD form.
	if got, want := RecordHash(nil), "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"; got != want {
		t.Errorf("RecordHash(nil) = %s, want %s", got, want)
	}
}
