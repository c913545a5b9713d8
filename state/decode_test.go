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
