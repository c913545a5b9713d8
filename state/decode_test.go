package state

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDecodeRefusesAddressesConnformDoesNotWrite(t *testing.T) {
	for _, tc := range []struct {
		addr, name, key string
		problem         string // "" when the file is accepted
	}{
		{addr: "connection.crm", name: "crm"},
		{addr: `connection.crm["dev"]`, name: "crm", key: "dev"},
		{addr: `connection.crm["a \"b\""]`, name: "crm", key: `a "b"`},
		{addr: "connection.crm"}, // files from before names were recorded
		{addr: "connection.crm[", name: "crm", problem: `connection "connection.crm[" does not have an address connform writes`},
		{addr: "crm", name: "crm", problem: "does not have an address connform writes"},
		{addr: "connection.crm[dev]", name: "crm", key: "dev", problem: "does not have an address connform writes"},
		{addr: "azurerm_group.crm", name: "crm", problem: "does not have an address connform writes"},
		{addr: "connection.crm\x1b[2J", problem: "does not have an address connform writes"},
		{addr: "connection.other", name: "crm", problem: `connection "connection.other" has the name "crm" and key "", which do not match its address`},
		{addr: `connection.crm["dev"]`, name: "crm", key: "prod", problem: "which do not match its address"},
	} {
		raw := `{"version":1,"serial":1,"lineage":"l","connections":[{"addr":` + quoteJSON(tc.addr) + `,"name":` + quoteJSON(tc.name) + `,"key":` + quoteJSON(tc.key) + `}]}`
		_, problem, _ := decode([]byte(raw))
		switch {
		case tc.problem == "" && problem != "":
			t.Errorf("%s: refused: %s", tc.addr, problem)
		case tc.problem != "" && !strings.Contains(problem, tc.problem):
			t.Errorf("%s: problem %q, want it to contain %q", tc.addr, problem, tc.problem)
		}
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestDecodeNamesAByteOrderMark(t *testing.T) {
	_, problem, _ := decode([]byte("\xef\xbb\xbf" + `{"version":1,"serial":1,"lineage":"l","connections":[]}`))
	if !strings.Contains(problem, "byte order mark") {
		t.Errorf("problem %q does not name the byte order mark", problem)
	}
}

// A leftover journal is a file like the state: what it would add is held
// to the same rules, and a journal that breaks them is left alone.
func TestJournalEntriesPassTheStateFileChecks(t *testing.T) {
	for _, tc := range []struct {
		name, addr string
		refused    bool
	}{
		{"an address connform writes", "connection.a", false},
		{"an address that does not parse", "connection.a[", true},
		{"an escape in the address", "connection.a\x1b[2J", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := statePath(t)
			seedFile(t, path)
			st := mustRead(t, NewLocal(path))
			j, err := NewLocal(path).OpenJournal(st)
			if err != nil {
				t.Fatal(err)
			}
			c := conn(tc.addr)
			c.Attributes["url"] = "https://x\x1b[2J"
			if err := j.Record(Entry{Op: OpPut, Conn: c}); err != nil {
				t.Fatal(err)
			}
			j.Close()
			before := readFile(t, path)
			_, err = NewLocal(path).Recover()
			if tc.refused {
				if err == nil || !strings.Contains(err.Error(), "holds a record connform could not have written") {
					t.Fatalf("Recover = %v, want the journal refused", err)
				}
				if string(before) != string(readFile(t, path)) {
					t.Error("the state file was changed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := mustRead(t, NewLocal(path)).Lookup(tc.addr)
			if got == nil || strings.ContainsRune(got.Attributes["url"], 0x1b) {
				t.Fatalf("folded %+v; want the connection with its escape escaped", got)
			}
		})
	}
}
