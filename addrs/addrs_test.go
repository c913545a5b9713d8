package addrs

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want string // the canonical form, "" when refused
		all  bool
		err  string // a fragment of the error
	}{
		{in: "connection.crm", want: "connection.crm", all: true},
		{in: "crm", want: "connection.crm", all: true},
		{in: "  crm ", want: "connection.crm", all: true},
		{in: `connection.crm["dev"]`, want: `connection.crm["dev"]`},
		{in: `crm["dev"]`, want: `connection.crm["dev"]`},
		{in: `crm[dev]`, want: `connection.crm["dev"]`},
		{in: `connection.crm[dev]`, want: `connection.crm["dev"]`},
		{in: `crm["sales dev"]`, want: `connection.crm["sales dev"]`},
		{in: `crm[sales dev]`, want: `connection.crm["sales dev"]`},
		{in: `crm["a/b"]`, want: `connection.crm["a/b"]`},
		{in: `crm["a]b"]`, want: `connection.crm["a]b"]`},
		{in: `crm["say \"hi\""]`, want: `connection.crm["say \"hi\""]`},
		{in: `crm[0]`, want: `connection.crm["0"]`},
		{in: "crm-dev", want: "connection.crm-dev", all: true},
		{in: "", err: "no name"},
		{in: "connection.", err: "no name"},
		{in: `crm[dev`, err: "closing ]"},
		{in: `crm[]`, err: "empty key"},
		{in: `crm[""]`, err: "empty key"},
		{in: `crm["dev]`, err: "not a complete quoted string"},
		{in: `crm[a"b]`, err: "quote it whole"},
		{in: "resource.crm", err: `"resource" is not a resource type`},
		{in: "1crm", err: `"1crm" is not a block name`},
		{in: `["dev"]`, err: "no name"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTarget(tt.in)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("ParseTarget(%q) = %s, want an error", tt.in, got)
				}
				if !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), Spellings) {
					t.Fatalf("error %q should say %q and list the spellings", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want || got.All != tt.all {
				t.Fatalf("ParseTarget(%q) = %s (all=%v), want %s (all=%v)", tt.in, got, got.All, tt.want, tt.all)
			}
			// What is printed parses back to itself.
			again, err := ParseTarget(got.String())
			if err != nil || again != got {
				t.Fatalf("%s does not parse back: %v, %v", got, again, err)
			}
		})
	}
}

func TestTargetMatches(t *testing.T) {
	dev := NewConnection("crm", "dev")
	plain := NewConnection("crm", "")
	other := NewConnection("crm2", "dev")
	tests := []struct {
		target string
		inst   Instance
		want   bool
	}{
		{"crm", dev, true},
		{"crm", plain, true},
		{"crm", other, false},
		{"crm[dev]", dev, true},
		{"crm[test]", dev, false},
		{"crm[dev]", other, false},
		{`connection.crm2["dev"]`, other, true},
	}
	for _, tt := range tests {
		tg, err := ParseTarget(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		if got := tg.Matches(tt.inst); got != tt.want {
			t.Errorf("%s matches %s = %v, want %v", tt.target, tt.inst, got, tt.want)
		}
	}
}

func TestFileIdentity(t *testing.T) {
	tests := []struct {
		a, b Instance
		same bool
	}{
		{NewConnection("crm-dev", ""), NewConnection("crm", "dev"), true},
		{NewConnection("crm", "a/b"), NewConnection("crm", "a_b"), true},
		{NewConnection("crm", "sales dev"), NewConnection("crm", "sales_dev"), true},
		{NewConnection("crm", "Dev"), NewConnection("crm", "dev"), true},
		{NewConnection("crm", "dev"), NewConnection("crm", "test"), false},
		{NewConnection("crm", ".hidden"), NewConnection("crm", "_hidden"), false},
	}
	for _, tt := range tests {
		if got := tt.a.FileIdentity() == tt.b.FileIdentity(); got != tt.same {
			t.Errorf("%s and %s share a file: %v, want %v (%q, %q)", tt.a, tt.b, got, tt.same, tt.a.FileIdentity(), tt.b.FileIdentity())
		}
	}
	if got := FileStem(".env"); got != "_env" {
		t.Errorf("FileStem(.env) = %q: a leading dot hides the file", got)
	}
	if got := NewConnection("crm", "sales dev").LibraryKey(); got != "crm-sales dev" {
		t.Errorf("LibraryKey = %q", got)
	}
}

func TestSelects(t *testing.T) {
	crm, _ := ParseTarget("crm")
	dev, _ := ParseTarget("crm[dev]")
	tests := []struct {
		targets []Target
		addr    string
		want    bool
	}{
		{nil, `connection.crm["dev"]`, true},
		{nil, `not an address[`, true},
		{[]Target{crm}, `connection.crm["dev"]`, true},
		{[]Target{dev}, `connection.crm["test"]`, false},
		{[]Target{dev, crm}, `connection.crm["test"]`, true},
		{[]Target{crm}, `not an address[`, false},
	}
	for _, tt := range tests {
		if got := Selects(tt.targets, tt.addr); got != tt.want {
			t.Errorf("Selects(%v, %s) = %v, want %v", tt.targets, tt.addr, got, tt.want)
		}
	}
}

// State and plan files hold addresses one way only: everything a person may
// type but connform never writes is refused.
func TestParseWritten(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"connection.crm", true},
		{`connection.crm["dev"]`, true},
		{`connection.crm["say \"hi\""]`, true},
		{"crm", false},
		{`connection.crm[dev]`, false},
		{` connection.crm`, false},
		{"application.app", false}, // not a registered resource type (yet)
		{"variable.x", false},
		{`connection.crm[""]`, false},
	} {
		inst, err := ParseWritten(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseWritten(%q) = %v, %v", tt.in, inst, err)
		}
		if err == nil && (inst.Type != Connection || inst.String() != tt.in) {
			t.Errorf("ParseWritten(%q) = %#v", tt.in, inst)
		}
	}
}

// TestValidName holds ValidName to hcl's own answer for every string of up
// to three bytes from a set that covers each class it decides, and for
// names outside ASCII, which it leaves to hcl.
func TestValidName(t *testing.T) {
	alphabet := []string{"a", "Z", "_", "-", "0", "9", ".", " ", "\"", "[", "é", "ß", "\u0300", "\x00", "\xff"}
	var cases []string
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		cases = append(cases, prefix)
		if n == 0 {
			return
		}
		for _, a := range alphabet {
			grow(prefix+a, n-1)
		}
	}
	grow("", 3)
	cases = append(cases, "org00001", "crm-dev", "_x", "x_1-2", "1crm", "-crm", "crm.dev", "kunde_münchen", "日本")
	for _, s := range cases {
		if got, want := ValidName(s), hclsyntax.ValidIdentifier(s); got != want {
			t.Errorf("ValidName(%q) = %v, hcl says %v", s, got, want)
		}
	}
}
