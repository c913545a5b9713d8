package library

import (
	"os"
	"testing"
)

// FuzzDecode reads hostile entry files as import does: an entry or an
// error, never a panic, and what decodes encodes again. Run longer with
// go test ./library -run '^$' -fuzz FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"testdata/sales.dsconn", "testdata/sales.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, name[len(name)-4:] == "json")
	}
	f.Add([]byte("\xff\xfe<\x00C\x00"), false)
	f.Add([]byte(`<Connection Key="a"><Parameter Name="ServiceUrl"/></Connection>`), false)
	f.Add([]byte(`{"Key":"a","Parameters":[{"Name":"ClientID"}]}`), true)
	f.Add([]byte(`{"Parameters":null}`), true)
	f.Fuzz(func(t *testing.T, data []byte, asJSON bool) {
		format := FormatDSConn
		if asJSON {
			format = FormatJSON
		}
		e, err := Decode(data, format)
		if err != nil {
			return
		}
		// Encode may refuse what it cannot write (a control character), but
		// must not panic on anything Decode gave.
		_, _ = Encode(e, format)
	})
}
