package state

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestFormatVersions: files of every known format version are read, and
// every write is in the current one, so an older build that does not know
// orphans refuses the file ("newer than this connform understands")
// instead of dropping them on its next write.
func TestFormatVersions(t *testing.T) {
	const orphan = `"orphans":[{"path":"library/gone.dsconn","hash":"sha256:00","addr":"connection.gone"}]`
	tests := []struct {
		name     string
		file     string
		wantRead bool
		orphans  int
	}{
		{"version 1, as older builds wrote it", `{"version":1,"serial":3,"lineage":"l","connections":[{"addr":"connection.a","name":"a"}]}`, true, 0},
		{"version 1 with orphans (written between the journal and version 2)", `{"version":1,"serial":3,"lineage":"l","connections":[{"addr":"connection.a","name":"a"}],` + orphan + `}`, true, 1},
		{"version 2", `{"version":2,"serial":3,"lineage":"l","connections":[{"addr":"connection.a","name":"a"}],` + orphan + `}`, true, 1},
		{"a version this build does not know", `{"version":3,"serial":3,"lineage":"l","connections":[]}`, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := statePath(t)
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			l := NewLocal(path)
			s, err := l.Read()
			if !tt.wantRead {
				var corrupt *CorruptError
				if !errors.As(err, &corrupt) || !corrupt.TooNew || !strings.Contains(err.Error(), "upgrade connform") {
					t.Fatalf("Read = %v; want a too-new error asking to upgrade", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(s.Orphans) != tt.orphans || s.Lookup("connection.a") == nil {
				t.Fatalf("read %d orphans and connection.a %v; want %d and the connection", len(s.Orphans), s.Lookup("connection.a"), tt.orphans)
			}
			s.Put(conn("connection.b"))
			mustWrite(t, l, s)
			var head struct {
				Version int `json:"version"`
			}
			if err := json.Unmarshal(readFile(t, path), &head); err != nil {
				t.Fatal(err)
			}
			if head.Version != FormatVersion {
				t.Errorf("written in format version %d, want %d", head.Version, FormatVersion)
			}
			if got := mustRead(t, NewLocal(path)); len(got.Orphans) != tt.orphans {
				t.Errorf("after the write %d orphans, want %d", len(got.Orphans), tt.orphans)
			}
		})
	}
}
