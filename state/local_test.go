package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"connform/internal/atomicfile"
)

func statePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "connform.state.json")
}

func conn(addr string, attrs ...string) *Connection {
	c := &Connection{Addr: addr, Name: strings.TrimPrefix(addr, "connection."), Attributes: map[string]string{}}
	for i := 0; i+1 < len(attrs); i += 2 {
		c.Attributes[attrs[i]] = attrs[i+1]
	}
	return c
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustWrite(t *testing.T, l *Local, s *State) {
	t.Helper()
	if err := l.Write(s); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func mustRead(t *testing.T, l *Local) *State {
	t.Helper()
	s, err := l.Read()
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if s == nil {
		t.Fatal("Read returned no state")
	}
	return s
}

func assertMode0600(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", filepath.Base(path), fi.Mode().Perm())
	}
}

// seedFile writes a valid state file as an earlier run would have left it.
func seedFile(t *testing.T, path string) *State {
	t.Helper()
	s := New("0.1.0")
	s.Connections = []*Connection{conn("connection.crm", "url", "https://contoso.crm.dynamics.com")}
	mustWrite(t, NewLocal(path), s)
	return s
}

func TestReadMissingFile(t *testing.T) {
	s, err := NewLocal(statePath(t)).Read()
	if s != nil || err != nil {
		t.Fatalf("Read of a missing file = %v, %v; want nil, nil", s, err)
	}
}

func TestRoundTrip(t *testing.T) {
	path := statePath(t)
	s := New("1.2.3")
	verified := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	s.Connections = []*Connection{
		conn("connection.sales", "url", "https://sales.crm4.dynamics.com", "tenant_id", "t1"),
		{
			Addr: "connection.crm", Name: "crm", Key: "",
			Attributes:            map[string]string{"url": "https://contoso.crm.dynamics.com"},
			SensitiveFingerprints: map[string]string{"client_secret": Fingerprint(s.Lineage, "hunter2-secret")},
			OrganizationID:        "org-1", UserID: "user-1", BusinessUnitID: "bu-1",
			Account: "ada@contoso.com", VerifiedAt: verified, TokenKey: "tk",
			OrganizationServiceURL: "https://contoso.crm.dynamics.com/XRMServices/2011/Organization.svc",
			WebAPIURL:              "https://contoso.crm.dynamics.com/api/data/v9.2/",
			LibraryPath:            "lib/crm.dsconn", LibraryHash: "sha256:abc",
		},
	}
	mustWrite(t, NewLocal(path), s)

	if s.Serial != 1 {
		t.Errorf("serial of a new file = %d, want 1", s.Serial)
	}
	if s.Connections[0].Addr != "connection.crm" {
		t.Errorf("Write did not sort connections by Addr: first is %s", s.Connections[0].Addr)
	}
	got := mustRead(t, NewLocal(path))
	if !reflect.DeepEqual(got, s) {
		t.Errorf("Read after Write:\n got %+v\nwant %+v", got, s)
	}

	raw := readFile(t, path)
	if !bytes.HasSuffix(raw, []byte("}\n")) || !bytes.Contains(raw, []byte("\n  \"serial\": 1,\n")) {
		t.Errorf("file is not 2-space indented JSON with a trailing newline:\n%s", raw)
	}
	if bytes.Contains(raw, []byte("hunter2-secret")) {
		t.Error("state file contains the sensitive value itself")
	}
	if bytes.Index(raw, []byte("connection.crm")) > bytes.Index(raw, []byte("connection.sales")) {
		t.Error("connections are not sorted by Addr in the file")
	}
	assertMode0600(t, path)
}

func TestEmptyStateIsWrittenWithEmptyList(t *testing.T) {
	path := statePath(t)
	mustWrite(t, NewLocal(path), New("1"))
	if raw := readFile(t, path); !bytes.Contains(raw, []byte(`"connections": []`)) {
		t.Errorf("empty state file should list no connections as []:\n%s", raw)
	}
}

func TestSerialBumpsOnlyOnChange(t *testing.T) {
	path := statePath(t)
	l := NewLocal(path)
	s := New("1.0.0")
	mustWrite(t, l, s)

	steps := []struct {
		name       string
		change     func(s *State)
		wantSerial uint64
		rewritten  bool
	}{
		{"no change", func(*State) {}, 1, false},
		{"add connection", func(s *State) { s.Connections = append(s.Connections, conn("connection.b", "url", "u1")) }, 2, true},
		{"same again", func(*State) {}, 2, false},
		{"add connection out of order", func(s *State) { s.Connections = append(s.Connections, conn("connection.a")) }, 3, true},
		{"reorder only", func(s *State) { s.Connections[0], s.Connections[1] = s.Connections[1], s.Connections[0] }, 3, false},
		{"change attribute", func(s *State) { s.Lookup("connection.b").Attributes["url"] = "u2" }, 4, true},
		{"set attribute to the same value", func(s *State) { s.Lookup("connection.b").Attributes["url"] = "u2" }, 4, false},
		{"change fingerprint", func(s *State) {
			s.Lookup("connection.a").SensitiveFingerprints = map[string]string{"client_secret": Fingerprint(s.Lineage, "x")}
		}, 5, true},
		{"connform version", func(s *State) { s.ConnformVersion = "1.1.0" }, 6, true},
		{"remove connection", func(s *State) { s.Connections = s.Connections[1:] }, 7, true},
	}
	for _, st := range steps {
		// Age the file so an unwanted rewrite would show in its mtime.
		old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
		before := readFile(t, path)

		st.change(s)
		mustWrite(t, l, s)

		if s.Serial != st.wantSerial {
			t.Errorf("%s: serial = %d, want %d", st.name, s.Serial, st.wantSerial)
		}
		disk := mustRead(t, NewLocal(path))
		if disk.Serial != st.wantSerial {
			t.Errorf("%s: serial on disk = %d, want %d", st.name, disk.Serial, st.wantSerial)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		rewritten := !fi.ModTime().Equal(old) || !bytes.Equal(before, readFile(t, path))
		if rewritten != st.rewritten {
			t.Errorf("%s: file rewritten = %v, want %v", st.name, rewritten, st.rewritten)
		}
	}
}

func TestUnchangedWriteInANewRunTouchesNothing(t *testing.T) {
	path := statePath(t)
	seedFile(t, path)
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	l := NewLocal(path)
	s := mustRead(t, l)
	mustWrite(t, l, s)

	if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) {
		t.Error("an unchanged state was rewritten")
	}
	if _, err := os.Stat(path + ".backup"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a backup was made although nothing was written (stat: %v)", err)
	}
}

func TestBackupHoldsTheSnapshotTheRunStartedFrom(t *testing.T) {
	path := statePath(t)
	backup := path + ".backup"

	// Run 1 creates the file: there is nothing to back up.
	run1 := NewLocal(path)
	s := New("1")
	mustWrite(t, run1, s)
	s.Connections = append(s.Connections, conn("connection.a"))
	mustWrite(t, run1, s)
	if _, err := os.Stat(backup); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("run 1 made a backup of its own intermediate state (stat: %v)", err)
	}
	afterRun1 := readFile(t, path)

	// Run 2 writes three times; the backup must stay run 1's final file.
	run2 := NewLocal(path)
	s = mustRead(t, run2)
	for _, addr := range []string{"connection.b", "connection.c", "connection.d"} {
		s.Connections = append(s.Connections, conn(addr))
		mustWrite(t, run2, s)
		if got := readFile(t, backup); !bytes.Equal(got, afterRun1) {
			t.Fatalf("after writing %s the backup is\n%s\nwant run 1's file\n%s", addr, got, afterRun1)
		}
	}
	assertMode0600(t, backup)
	afterRun2 := readFile(t, path)

	// Run 3 backs up run 2's result.
	run3 := NewLocal(path)
	s = mustRead(t, run3)
	s.Connections = s.Connections[1:]
	mustWrite(t, run3, s)
	if got := readFile(t, backup); !bytes.Equal(got, afterRun2) {
		t.Errorf("run 3's backup is\n%s\nwant run 2's file\n%s", got, afterRun2)
	}
}

func TestWriteTightensModeOfExistingFile(t *testing.T) {
	path := statePath(t)
	seedFile(t, path)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	l := NewLocal(path)
	s := mustRead(t, l)
	s.Connections = append(s.Connections, conn("connection.new"))
	mustWrite(t, l, s)
	assertMode0600(t, path)
	assertMode0600(t, path+".backup")
}

func TestWriteRefusesConflicts(t *testing.T) {
	tests := []struct {
		name string
		// run prepares a conflicting situation on the seeded file at path
		// and returns what this run tries to write through l.
		run         func(t *testing.T, path string) (*Local, *State)
		wantMessage string
	}{
		{
			name: "different lineage",
			run: func(t *testing.T, path string) (*Local, *State) {
				return NewLocal(path), New("1")
			},
			wantMessage: "different state (lineage",
		},
		{
			name: "newer serial written by another run",
			run: func(t *testing.T, path string) (*Local, *State) {
				mine := NewLocal(path)
				s := mustRead(t, mine)
				other := NewLocal(path)
				o := mustRead(t, other)
				o.Connections = append(o.Connections, conn("connection.other"))
				mustWrite(t, other, o)
				s.Connections = append(s.Connections, conn("connection.mine"))
				return mine, s
			},
			wantMessage: "changed by someone else",
		},
		{
			// e.g. a state snapshot kept in a saved plan, applied by a later run
			name: "snapshot older than the file, written by a fresh run",
			run: func(t *testing.T, path string) (*Local, *State) {
				s := mustRead(t, NewLocal(path))
				other := NewLocal(path)
				o := mustRead(t, other)
				o.Connections = append(o.Connections, conn("connection.other"))
				mustWrite(t, other, o)
				s.Connections = append(s.Connections, conn("connection.mine"))
				return NewLocal(path), s
			},
			wantMessage: "changed by someone else",
		},
		{
			name: "other run wrote between two writes of this run",
			run: func(t *testing.T, path string) (*Local, *State) {
				mine := NewLocal(path)
				s := mustRead(t, mine)
				s.Connections = append(s.Connections, conn("connection.first"))
				mustWrite(t, mine, s)
				other := NewLocal(path)
				o := mustRead(t, other)
				o.Connections = append(o.Connections, conn("connection.other"))
				mustWrite(t, other, o)
				s.Connections = append(s.Connections, conn("connection.second"))
				return mine, s
			},
			wantMessage: "changed by someone else",
		},
		{
			name: "serial moved ahead by the caller does not hide another writer",
			run: func(t *testing.T, path string) (*Local, *State) {
				mine := NewLocal(path)
				s := mustRead(t, mine)
				other := NewLocal(path)
				o := mustRead(t, other)
				o.Connections = append(o.Connections, conn("connection.other"))
				mustWrite(t, other, o)
				s.Serial += 10
				s.Connections = append(s.Connections, conn("connection.mine"))
				return mine, s
			},
			wantMessage: "changed by someone else",
		},
		{
			// something that ignores the lock puts another file in place
			// with the serial this run read (a copy, a hand edit)
			name: "replaced with the same serial and other content",
			run: func(t *testing.T, path string) (*Local, *State) {
				mine := NewLocal(path)
				s := mustRead(t, mine)
				var theirs State
				if err := json.Unmarshal(readFile(t, path), &theirs); err != nil {
					t.Fatal(err)
				}
				theirs.Connections = append(theirs.Connections, conn("connection.theirs"))
				data, _ := json.MarshalIndent(&theirs, "", "  ")
				if err := os.WriteFile(path+".new", data, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(path+".new", path); err != nil {
					t.Fatal(err)
				}
				s.Connections = append(s.Connections, conn("connection.mine"))
				return mine, s
			},
			wantMessage: "replaced by something that ignored the lock",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := statePath(t)
			seedFile(t, path)
			l, s := tt.run(t, path)
			before := readFile(t, path)

			err := l.Write(s)
			var conflict *ConflictError
			if !errors.As(err, &conflict) {
				t.Fatalf("Write = %v, want a *ConflictError", err)
			}
			msg := err.Error()
			for _, want := range []string{path, tt.wantMessage, "was left as it is", "saved to " + conflict.Kept} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if !bytes.Equal(before, readFile(t, path)) {
				t.Error("the state file was changed by a refused write")
			}
			// Both sides are kept: this run's state is beside theirs.
			kept := mustRead(t, NewLocal(conflict.Kept))
			if kept.Lineage != s.Lineage || len(kept.Connections) != len(s.Connections) {
				t.Errorf("%s holds lineage %s and %d connections, want this run's state (lineage %s, %d connections)", conflict.Kept, kept.Lineage, len(kept.Connections), s.Lineage, len(s.Connections))
			}
			assertMode0600(t, conflict.Kept)
		})
	}
}

func TestReadRefusesCorruptFiles(t *testing.T) {
	valid := func(t *testing.T) []byte {
		path := statePath(t)
		seedFile(t, path)
		return readFile(t, path)
	}
	tests := []struct {
		name        string
		content     func(t *testing.T) []byte
		withBackup  bool
		wantProblem string
		wantTooNew  bool
	}{
		{"truncated JSON", func(t *testing.T) []byte { v := valid(t); return v[:len(v)/2] }, true, "truncated", false},
		{"empty file", func(*testing.T) []byte { return nil }, true, "empty", false},
		{"only whitespace", func(*testing.T) []byte { return []byte("\n \n") }, false, "empty", false},
		{"not JSON", func(*testing.T) []byte { return []byte("<<<<<<< HEAD\n") }, false, "not valid JSON", false},
		{"missing lineage", func(*testing.T) []byte { return []byte(`{"version":1,"serial":3,"connections":[]}`) }, false, "lineage", false},
		{"missing version", func(*testing.T) []byte { return []byte(`{"serial":3,"lineage":"l","connections":[]}`) }, false, "version", false},
		{"wrong type", func(*testing.T) []byte { return []byte(`{"version":1,"serial":"3","lineage":"l"}`) }, false, "serial", false},
		{"duplicate connection", func(*testing.T) []byte {
			return []byte(`{"version":1,"serial":3,"lineage":"l","connections":[{"addr":"connection.a"},{"addr":"connection.a"}]}`)
		}, false, "more than once", false},
		{"future version", func(*testing.T) []byte { return []byte(`{"version":99,"serial":3,"lineage":"l","resources":{}}`) }, false, "upgrade connform", true},
		{"future version that does not fit", func(*testing.T) []byte {
			return []byte(`{"version":99,"serial":"three","lineage":"l","connections":{"a":1}}`)
		}, false, "upgrade connform", true},
		{"version not a number", func(*testing.T) []byte { return []byte(`{"version":"1","serial":3,"lineage":"l"}`) }, false, "version", false},
		{"negative version", func(*testing.T) []byte { return []byte(`{"version":-1,"serial":3,"lineage":"l"}`) }, false, "impossible format version", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := statePath(t)
			content := tt.content(t)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			if tt.withBackup {
				if err := os.WriteFile(path+".backup", valid(t), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			l := NewLocal(path)

			s, err := l.Read()
			var corrupt *CorruptError
			if s != nil || !errors.As(err, &corrupt) {
				t.Fatalf("Read = %v, %v; want a *CorruptError", s, err)
			}
			if corrupt.TooNew != tt.wantTooNew {
				t.Errorf("TooNew = %v, want %v", corrupt.TooNew, tt.wantTooNew)
			}
			msg := err.Error()
			for _, want := range []string{path, tt.wantProblem, "left untouched"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if tt.withBackup && !strings.Contains(msg, path+".backup holds the previous snapshot") {
				t.Errorf("error %q does not point at the backup", msg)
			}
			if !tt.withBackup && !tt.wantTooNew && !strings.Contains(msg, "no backup") {
				t.Errorf("error %q should say there is no backup", msg)
			}

			// A write must not paper over the damage either.
			werr := l.Write(New("1"))
			if !errors.As(werr, &corrupt) {
				t.Errorf("Write over a corrupt file = %v, want a *CorruptError", werr)
			}
			if !bytes.Equal(content, readFile(t, path)) {
				t.Error("the corrupt file was modified")
			}
		})
	}
}

func TestWriteRejectsInvalidStates(t *testing.T) {
	tests := []struct {
		name  string
		state *State
		want  string
	}{
		{"nil state", nil, "no state"},
		{"no lineage", &State{Version: 1}, "no lineage"},
		{"future version", &State{Version: FormatVersion + 1, Lineage: "l"}, "upgrade connform"},
		{"duplicate addr", &State{Version: 1, Lineage: "l", Connections: []*Connection{conn("connection.a"), conn("connection.a")}}, "more than once"},
		{"nil connection", &State{Version: 1, Lineage: "l", Connections: []*Connection{nil}}, "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := statePath(t)
			err := NewLocal(path).Write(tt.state)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write = %v, want an error mentioning %q", err, tt.want)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a state file was created (stat: %v)", err)
			}
		})
	}
}

func TestLeftoverTempFileDoesNotBreakReadOrWrite(t *testing.T) {
	path := statePath(t)
	seedFile(t, path)
	// What a run killed after creating its temp file leaves behind.
	leftover := filepath.Join(filepath.Dir(path), ".connform.state.json.tmp-12345")
	if err := os.WriteFile(leftover, []byte(`{"version":1,"ser`), 0o600); err != nil {
		t.Fatal(err)
	}
	l := NewLocal(path)
	s := mustRead(t, l)
	s.Connections = append(s.Connections, conn("connection.more"))
	mustWrite(t, l, s)
	if got := mustRead(t, NewLocal(path)); got.Lookup("connection.more") == nil || got.Serial != 2 {
		t.Errorf("after the write the file holds serial %d, connections %d", got.Serial, len(got.Connections))
	}
}

func TestFailedWriteLeavesThePreviousFileIntact(t *testing.T) {
	path := statePath(t)
	seedFile(t, path)
	before := readFile(t, path)

	l := NewLocal(path)
	s := mustRead(t, l)
	var tmpSeen string
	l.beforeRename = func(tmp string) error {
		tmpSeen = tmp
		return errors.New("simulated crash before rename")
	}
	s.Connections = append(s.Connections, conn("connection.new"))
	err := l.Write(s)
	if err == nil || !strings.Contains(err.Error(), "left untouched") {
		t.Fatalf("Write = %v, want an error saying the previous file was left untouched", err)
	}
	if !bytes.Equal(before, readFile(t, path)) {
		t.Fatal("a failed write changed the state file")
	}
	if s.Serial != 1 {
		t.Errorf("a failed write moved the serial to %d", s.Serial)
	}
	if _, err := os.Stat(tmpSeen); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temp file %s was left behind (stat: %v)", tmpSeen, err)
	}
	if tmpSeen != "" && filepath.Dir(tmpSeen) != filepath.Dir(path) {
		t.Errorf("temp file %s is not in the state's directory, so the rename would not be atomic", tmpSeen)
	}

	// The run can carry on once the problem is gone.
	l.beforeRename = nil
	mustWrite(t, l, s)
	if got := mustRead(t, NewLocal(path)); got.Serial != 2 || got.Lookup("connection.new") == nil {
		t.Errorf("retry wrote serial %d with %d connections", got.Serial, len(got.Connections))
	}
	if !bytes.Equal(before, readFile(t, path+".backup")) {
		t.Error("the backup does not hold the snapshot the run started from")
	}
}

func TestWriteIntoMissingDirectoryExplains(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "connform.state.json")
	err := NewLocal(path).Write(New("1"))
	if err == nil || !strings.Contains(err.Error(), "directory exists") {
		t.Fatalf("Write = %v, want an error asking to check the directory", err)
	}
}

// A write whose directory sync failed after the rename put the new state in
// place: the error says so (not "left untouched"), and the run goes on from
// the new serial instead of taking its own write for someone else's.
func TestWriteNotDurableKeepsTheRunGoing(t *testing.T) {
	path := statePath(t)
	seedFile(t, path)
	l := NewLocal(path)
	s := mustRead(t, l)
	l.afterWrite = func(err error) error {
		if err != nil {
			return err
		}
		return fmt.Errorf("write %s: %w: sync directory: too many open files", path, atomicfile.ErrNotDurable)
	}
	s.Connections = append(s.Connections, conn("connection.new"))
	err := l.Write(s)
	if !errors.Is(err, atomicfile.ErrNotDurable) || strings.Contains(err.Error(), "left untouched") {
		t.Fatalf("Write = %v, want ErrNotDurable without claiming the old file is intact", err)
	}
	if s.Serial != 2 {
		t.Errorf("serial %d after the new state landed, want 2", s.Serial)
	}
	l.afterWrite = nil
	s.Connections = append(s.Connections, conn("connection.next"))
	mustWrite(t, l, s)
	if got := mustRead(t, NewLocal(path)); got.Serial != 3 || got.Lookup("connection.next") == nil {
		t.Errorf("the next write gave serial %d with %d connections", got.Serial, len(got.Connections))
	}
}
