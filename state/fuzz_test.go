package state

import (
	"bytes"
	"strings"
	"testing"

	"connform/internal/safetext"
)

// FuzzDecode reads any bytes as a state file: decode accepts them or says
// what is wrong, never panics; what it accepts has unique addresses
// connform could have written, strings safe to print, and survives a write
// and a read unchanged. Run longer with
// go test ./state -run '^$' -fuzz FuzzDecode -fuzztime 60s.
func FuzzDecode(f *testing.F) {
	good := `{"version":1,"serial":3,"lineage":"5d0c7b8e","connform_version":"t","connections":[` +
		`{"addr":"connection.crm[\"dev\"]","name":"crm","key":"dev","attributes":{"url":"https://dev.crm4.dynamics.com","description":"a\nb"},` +
		`"library_path":"library/crm-dev.dsconn","library_hash":"ab","verified_at":"2026-11-27T10:00:00Z"}]}`
	for _, s := range []string{
		good,
		"",
		"\xef\xbb\xbf" + good,
		good[:len(good)/2],
		good + good,
		`{"version":2}`,
		`{"version":-1,"lineage":"l"}`,
		`{"version":1e400,"lineage":"l"}`,
		`{"version":1,"serial":-1,"lineage":"l"}`,
		`{"version":1,"serial":18446744073709551616,"lineage":"l"}`,
		`{"version":1,"lineage":"l","connections":[null]}`,
		`{"version":1,"lineage":"l","connections":{"connection.a":{}}}`,
		`{"version":1,"lineage":"l","connections":[{"addr":"connection.a"},{"addr":"connection.a"}]}`,
		`{"version":1,"lineage":"l","connections":[{"addr":"connection.a["}]}`,
		`{"version":1,"lineage":"l","connections":[{"addr":"connection.a\u001b[2J"}]}`,
		`{"version":1,"lineage":"l\u001b]0;pwned\u0007","connections":[{"addr":"connection.a","library_path":"/etc/passwd","attributes":{"url":"\u001b[2J"}}]}`,
		`{"version":1,"lineage":"l","connections":[{"addr":"connection.a","library_path":"library/../main.hcl","verified_at":"not a time"}]}`,
		`{"version":1,"lineage":"l","connections":[` + strings.Repeat(`[`, 10000) + `]}`,
		`{"version":1,"lineage":"l","version":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, problem, _ := decode(raw)
		if problem != "" {
			if s != nil {
				t.Fatalf("decode returned a state and the problem %q", problem)
			}
			return
		}
		seen := map[string]bool{}
		for _, c := range s.Connections {
			if seen[c.Addr] {
				t.Fatalf("accepted %s twice", c.Addr)
			}
			seen[c.Addr] = true
			if checkAddresses([]*Connection{c}) != "" {
				t.Fatalf("accepted the address %q", c.Addr)
			}
			for _, v := range []string{c.Addr, c.Name, c.Key, c.LibraryPath, c.TokenKey, c.Account} {
				if !safetext.Safe(v) {
					t.Fatalf("accepted a control character in %q", v)
				}
			}
		}
		// What connform writes it reads back the same: the file format
		// round-trips whatever was accepted.
		out, err := encode(s)
		if err != nil {
			t.Fatalf("cannot encode an accepted state: %v", err)
		}
		again, problem, _ := decode(out)
		if problem != "" {
			t.Fatalf("the state as written is refused: %s\n%s", problem, out)
		}
		out2, err := encode(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("a write and a read changed the state:\n%s\n%s", out, out2)
		}
	})
}
