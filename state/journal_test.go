package state

import (
	"os"
	"strings"
	"testing"
)

// A kill in the middle of an append leaves a torn last record: replay must
// take every intact record and ignore the torn one, whatever its damage.
func TestJournalTornLastRecordIsIgnored(t *testing.T) {
	tests := []struct {
		name    string
		tear    func(data []byte, lastStart int) []byte
		ignored bool
	}{
		{"complete", func(d []byte, _ int) []byte { return d }, false},
		{"header cut short", func(d []byte, last int) []byte { return d[:last+3] }, true},
		{"payload cut short", func(d []byte, last int) []byte { return d[:len(d)-5] }, true},
		{"payload bytes never reached the disk", func(d []byte, last int) []byte {
			out := append([]byte(nil), d...)
			for i := last + recordHeader; i < len(out); i++ {
				out[i] = 0
			}
			return out
		}, true},
		{"absurd length", func(d []byte, last int) []byte {
			out := append([]byte(nil), d[:last]...)
			return append(out, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, '{')
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := statePath(t)
			l := NewLocal(path)
			s := New("test")
			j, err := l.OpenJournal(s)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []string{"connection.a", "connection.b"} {
				if err := j.Record(Entry{Op: OpPut, Conn: conn(a)}); err != nil {
					t.Fatal(err)
				}
			}
			data := readFile(t, path+".journal")
			lastStart := len(data)
			if err := j.Record(Entry{Op: OpPut, Conn: conn("connection.c")}); err != nil {
				t.Fatal(err)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			assertMode0600(t, path+".journal")
			data = readFile(t, path+".journal")
			if err := os.WriteFile(path+".journal", tt.tear(data, lastStart), 0o600); err != nil {
				t.Fatal(err)
			}

			var notes []string
			next := NewLocal(path)
			next.Notify = func(m string) { notes = append(notes, m) }
			n, err := next.Recover()
			if err != nil {
				t.Fatalf("Recover: %v", err)
			}
			want := []string{"connection.a", "connection.b"}
			if !tt.ignored {
				want = append(want, "connection.c")
			}
			got := mustRead(t, next)
			if n != len(want) || len(got.Connections) != len(want) {
				t.Fatalf("Recover folded %d records into %d connections, want %d", n, len(got.Connections), len(want))
			}
			for _, a := range want {
				if got.Lookup(a) == nil {
					t.Errorf("%s is missing after Recover", a)
				}
			}
			said := strings.Join(notes, "\n")
			if !strings.Contains(said, "Folded") || strings.Contains(said, "incomplete record") != tt.ignored {
				t.Errorf("Recover said %q; want a fold message, and a torn record mentioned: %v", said, tt.ignored)
			}
			if _, err := os.Stat(path + ".journal"); !os.IsNotExist(err) {
				t.Errorf("the journal is still there after Recover (stat: %v)", err)
			}
		})
	}
}

func TestJournalRefusesAnotherStatesJournal(t *testing.T) {
	path := statePath(t)
	seedFile(t, path)
	j, err := NewLocal(path + ".other").OpenJournal(New("test"))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Record(Entry{Op: OpPut, Conn: conn("connection.x")}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if err := os.Rename(path+".other.journal", path+".journal"); err != nil {
		t.Fatal(err)
	}
	before := readFile(t, path)
	_, err = NewLocal(path).Recover()
	if err == nil || !strings.Contains(err.Error(), "belongs to another state") {
		t.Fatalf("Recover of another state's journal = %v, want a refusal", err)
	}
	if string(before) != string(readFile(t, path)) {
		t.Error("the state file was changed")
	}
	if _, err := os.Stat(path + ".journal"); err != nil {
		t.Errorf("the foreign journal was not left in place: %v", err)
	}
}

// A journal is as hostile as the state file: a record with an address
// connform could not have written is refused, and nothing is changed.
func TestJournalRefusesRecordsConnformCouldNotWrite(t *testing.T) {
	for _, bad := range []*Connection{nil, {Addr: "connection.x", Name: "y"}, {Addr: "not an address"}} {
		path := statePath(t)
		seedFile(t, path)
		l := NewLocal(path)
		s := mustRead(t, l)
		j, err := l.OpenJournal(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Record(Entry{Op: OpPut, Conn: bad}); err != nil {
			t.Fatal(err)
		}
		j.Close()
		before := readFile(t, path)
		_, err = NewLocal(path).Recover()
		if err == nil || !strings.Contains(err.Error(), "could not have written") {
			t.Errorf("Recover of a journal recording %+v = %v, want a refusal", bad, err)
		}
		if _, err := NewLocal(path).Read(); err == nil {
			t.Errorf("Read with a journal recording %+v succeeded, want the same refusal", bad)
		}
		if string(before) != string(readFile(t, path)) {
			t.Error("the state file was changed")
		}
	}
}
