package addrs

import "testing"

// FuzzParseTarget: whatever is typed, ParseTarget accepts it or says why,
// and what it accepts prints in a form that parses back to the same target.
// Run longer with go test ./addrs -run '^$' -fuzz FuzzParseTarget.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{`connection.crm["dev"]`, `crm[dev]`, `crm["a]b"]`, `crm["\u00e9"]`, `crm[""]`, `crm["\x00"]`, "connection.", `crm[dev`, `a.b.c`, `crm[[x]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tg, err := ParseTarget(s)
		if err != nil {
			return
		}
		again, err := ParseTarget(tg.String())
		if err != nil {
			t.Fatalf("%q parsed to %s, which does not parse: %v", s, tg, err)
		}
		if again != tg {
			t.Fatalf("%q parsed to %#v, printed %s, parsed back to %#v", s, tg, tg, again)
		}
	})
}
