package dynamics

import (
	"strings"
	"testing"
)

// FuzzParseOrgURL checks that any text gives an Org or an error, never a
// panic, and that an accepted URL normalises to a root that parses to
// itself. Run longer with go test ./dynamics -run '^$' -fuzz FuzzParseOrgURL.
func FuzzParseOrgURL(f *testing.F) {
	for _, s := range []string{
		"https://contoso.crm.dynamics.com",
		"contoso.crm4.dynamics.com/main.aspx?appid=1",
		"https://contoso.crm.microsoftdynamics.us/",
		"http://127.0.0.1:8400",
		"http://[::1]:0",
		"https://user:pass@contoso.crm.dynamics.com",
		"https://contoso.crm.dynamics.com:99999",
		"https://%zz",
		"\x00",
		"https://" + strings.Repeat("a.", 200) + "crm.dynamics.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		org, err := ParseOrgURL(raw)
		if err != nil {
			return
		}
		again, err := ParseOrgURL(org.Root)
		if err != nil {
			t.Fatalf("%q normalised to %q, which does not parse: %v", raw, org.Root, err)
		}
		if again.Root != org.Root {
			t.Fatalf("%q normalised to %q, then to %q", raw, org.Root, again.Root)
		}
	})
}
