package library

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf16"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const testSecret = "Xq8~verySecretValue.1234567890abcdefghij"

// goldenEntry is built the way apply builds one, with a client secret among
// the attributes, so the golden files also show that none gets through.
func goldenEntry() Entry {
	attrs := map[string]string{
		"url":               "https://contoso.crm4.dynamics.com",
		"tenant_id":         "72f988bf-86f1-41af-91ab-2d7cd011db47",
		"client_id":         "51f81489-12ee-4a9e-aaae-a2591f45987d",
		"client_secret":     testSecret,
		"authorization_url": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/authorize",
		"token_url":         "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token",
		"grant_type":        "authorization_code",
		"redirect":          "http://localhost",
		"scopes":            "https://contoso.crm4.dynamics.com/user_impersonation offline_access",
		"entity":            "account",
		"description":       "Sales & marketing <EMEA>",
		TokenKeyAttribute:   "login.microsoftonline.com/72f988bf/51f81489/ann@contoso.com",
	}
	return Entry{
		Key:         "sales",
		Description: attrs["description"],
		DataType:    "Simego.DataSync.Providers.Dynamics365.Dynamics365SourceReader",
		Params:      BuildParams(attrs, nil),
	}
}

func TestGolden(t *testing.T) {
	for _, format := range []string{FormatDSConn, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			got, err := Encode(goldenEntry(), format)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", FileName("sales", format))
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./library -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Encode differs from %s (rerun with -update if the change is intended):\n got: %s\nwant: %s", golden, got, want)
			}
			if bytes.Contains(want, []byte(testSecret)) || bytes.Contains(bytes.ToLower(want), []byte("secret")) {
				t.Errorf("%s holds the client secret or a secret parameter:\n%s", golden, want)
			}
			back, err := Decode(want, format)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, goldenEntry()) {
				t.Errorf("golden file decodes to\n%+v\nwant\n%+v", back, goldenEntry())
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	entries := map[string]Entry{
		"markup": {Key: "a&b", Description: `He said "<hi>" & 'bye'`, DataType: "T<1>", Params: []Param{
			{"Url", "https://x.example/?a=1&b=2"},
			{"Quote\"Name", `'single' "double"`},
		}},
		"unicode":                       {Key: "zürich", Description: "Straße – 東京 – 🚀", DataType: "d", Params: []Param{{"Ünï", "ça va ✓"}}},
		"whitespace":                    {Key: "ws", Description: "line1\nline2\ttab\r", Params: []Param{{"Lead", "  two spaces  "}}},
		"duplicate names kept in order": {Key: "dup", Params: []Param{{"A", "2"}, {"B", "1"}, {"A", "3"}}},
		"no params":                     {Key: "empty"},
	}
	for name, e := range entries {
		for _, format := range []string{FormatDSConn, FormatJSON} {
			t.Run(name+"/"+format, func(t *testing.T) {
				data, err := Encode(e, format)
				if err != nil {
					t.Fatal(err)
				}
				again, err := Encode(e, format)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, again) {
					t.Errorf("Encode is not deterministic:\n%s\n%s", data, again)
				}
				if !bytes.HasSuffix(data, []byte("\n")) {
					t.Errorf("no trailing newline: %q", data)
				}
				got, err := Decode(data, format)
				if err != nil {
					t.Fatalf("%v\n%s", err, data)
				}
				if !reflect.DeepEqual(got, e) {
					t.Errorf("round trip changed the entry:\n got %#v\nwant %#v\nfile:\n%s", got, e, data)
				}
			})
		}
	}
}

func TestEncodeRejectsWhatCannotRoundTrip(t *testing.T) {
	cases := map[string]struct {
		e      Entry
		format string
	}{
		"control character in XML": {Entry{Key: "k", Params: []Param{{"P", "a\x00b"}}}, FormatDSConn},
		"invalid UTF-8 in XML":     {Entry{Key: "k", Description: "\xff"}, FormatDSConn},
		"invalid UTF-8 in JSON":    {Entry{Key: "k", Params: []Param{{"P", "\xfe"}}}, FormatJSON},
		"unknown format":           {Entry{Key: "k"}, "yaml"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if data, err := Encode(c.e, c.format); err == nil {
				t.Errorf("Encode succeeded with %q", data)
			}
		})
	}
}

func TestDecodeForeignFiles(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="utf-8"?>
<Connection Key="crm" Description="from the tool" DataType="X.Y" Version="3">
  <Parameter Name="ServiceUrl" Value="https://o.crm.dynamics.com/XRMServices/2011/Organization.svc"></Parameter>
  <Other/>
</Connection>`
	want := Entry{Key: "crm", Description: "from the tool", DataType: "X.Y",
		Params: []Param{{"ServiceUrl", "https://o.crm.dynamics.com/XRMServices/2011/Organization.svc"}}}

	utf16le := func(s string) []byte {
		s = strings.Replace(s, "utf-8", "utf-16", 1)
		b := []byte{0xFF, 0xFE}
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
	cases := map[string][]byte{
		"plain":          []byte(doc),
		"UTF-8 with BOM": append([]byte{0xEF, 0xBB, 0xBF}, doc...),
		"UTF-16 LE":      utf16le(doc),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Decode(data, FormatDSConn)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, want %#v", got, want)
			}
		})
	}

	bad := map[string]string{
		"another root": `<Project/>`,
		"not XML":      `{"key":"x"}`,
		"latin1":       `<?xml version="1.0" encoding="iso-8859-1"?><Connection Key="x"/>`,
	}
	for name, doc := range bad {
		t.Run("bad/"+name, func(t *testing.T) {
			if e, err := Decode([]byte(doc), FormatDSConn); err == nil {
				t.Errorf("Decode accepted it: %#v", e)
			}
		})
	}
	if _, err := Decode([]byte(`<Connection/>`), FormatJSON); err == nil {
		t.Error("Decode accepted XML as JSON")
	}
}

func TestFileName(t *testing.T) {
	cases := []struct{ key, format, want string }{
		{"sales", FormatDSConn, "sales.dsconn"},
		{"sales-dev", FormatJSON, "sales-dev.json"},
		{"Sales_v1.2", "", "Sales_v1.2.dsconn"},
		{"sales dev", FormatDSConn, "sales_dev.dsconn"},
		{"../../etc/passwd", FormatDSConn, "_._.._etc_passwd.dsconn"},
		{`a\b:c*d?e"f<g>h|i`, FormatDSConn, "a_b_c_d_e_f_g_h_i.dsconn"},
		{".hidden", FormatDSConn, "_hidden.dsconn"},
		{"zürich", FormatDSConn, "z__rich.dsconn"}, // one '_' per byte of ü
		{"", FormatDSConn, "_.dsconn"},
	}
	for _, c := range cases {
		if got := FileName(c.key, c.format); got != c.want {
			t.Errorf("FileName(%q, %q) = %q, want %q", c.key, c.format, got, c.want)
		}
	}
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lib", "nested")
	e := goldenEntry()
	path, hash, err := Write(dir, FormatDSConn, e)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "sales.dsconn"); path != want {
		t.Errorf("path = %q, want %q", path, want)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if hash != Hash(data) {
		t.Errorf("hash %q is not the hash of the file, %q", hash, Hash(data))
	}
	if !strings.HasPrefix(hash, "sha256:") || len(hash) != len("sha256:")+64 {
		t.Errorf("hash %q is not sha256:<hex>", hash)
	}
	if runtime.GOOS != "windows" {
		assertMode(t, path, 0o600)
		assertMode(t, dir, 0o700)
	}

	// Rewriting replaces the file and leaves no temp file behind.
	e.Description = "changed"
	_, hash2, err := Write(dir, FormatDSConn, e)
	if err != nil {
		t.Fatal(err)
	}
	if hash2 == hash {
		t.Error("rewriting a changed entry kept the old hash")
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	hidden, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(names) != 1 || len(hidden) != 0 {
		t.Errorf("folder holds %v and hidden %v, want only the entry", names, hidden)
	}
	if got, _ := os.ReadFile(path); !strings.Contains(string(got), `Description="changed"`) {
		t.Errorf("file was not replaced:\n%s", got)
	}

	if _, _, err := Write(dir, FormatDSConn, Entry{Key: "bad", Params: []Param{{"P", "\x01"}}}); err == nil {
		t.Error("Write accepted an entry that cannot be encoded")
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.dsconn")); err == nil {
		t.Error("a failed Write left a file")
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %v, want %v", path, got, want)
	}
}

func TestCheckAndRemove(t *testing.T) {
	dir := t.TempDir()
	path, hash, err := Write(dir, FormatJSON, goldenEntry())
	if err != nil {
		t.Fatal(err)
	}
	check := func(want Status) {
		t.Helper()
		got, err := Check(path, hash)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Check = %q, want %q", got, want)
		}
	}
	check(StatusOK)

	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.Replace(data, []byte("account"), []byte("contact"), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	check(StatusModified)

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	check(StatusMissing)
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	a := Entry{Key: "alpha", DataType: "T", Params: []Param{{"P", "1"}}}
	b := Entry{Key: "beta", Description: "json one"}
	pa, _, err := Write(dir, FormatDSConn, a)
	if err != nil {
		t.Fatal(err)
	}
	pb, _, err := Write(dir, FormatJSON, b)
	if err != nil {
		t.Fatal(err)
	}
	// A file without a Key is named after its file; everything else in the
	// folder is not an entry.
	keyless := filepath.Join(dir, "gamma.dsconn")
	for name, content := range map[string]string{
		"gamma.dsconn":          `<Connection DataType="T"/>`,
		"notes.txt":             "not an entry",
		".alpha.dsconn.tmp-123": "half-written",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.json"), 0o700); err != nil {
		t.Fatal(err)
	}

	entries, paths, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantEntries := []Entry{a, b, {Key: "gamma", DataType: "T"}}
	if !reflect.DeepEqual(entries, wantEntries) {
		t.Errorf("entries = %#v, want %#v", entries, wantEntries)
	}
	if want := []string{pa, pb, keyless}; !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}

	broken := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(broken, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadDir(dir); err == nil || !strings.Contains(err.Error(), broken) {
		t.Errorf("ReadDir with a broken file: error %v does not name %s", err, broken)
	}
	if _, _, err := ReadDir(filepath.Join(dir, "absent")); err == nil {
		t.Error("ReadDir of a missing folder succeeded")
	}
}
