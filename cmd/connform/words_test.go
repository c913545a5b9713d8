package main

import "testing"

func TestCount(t *testing.T) {
	tests := []struct {
		n    int
		one  string
		many []string
		want string
	}{
		{0, "connection", nil, "0 connections"},
		{1, "connection", nil, "1 connection"},
		{2, "connection", nil, "2 connections"},
		{1, "entry", []string{"entries"}, "1 entry"},
		{3, "entry", []string{"entries"}, "3 entries"},
		{2, "interactive sign-in", nil, "2 interactive sign-ins"},
	}
	for _, tt := range tests {
		if got := count(tt.n, tt.one, tt.many...); got != tt.want {
			t.Errorf("count(%d, %q, %q) = %q, want %q", tt.n, tt.one, tt.many, got, tt.want)
		}
	}
}

// TestAttrValue: values are shown as the configuration writes them, and
// whatever came from outside is escaped as Go quotes it, so no value can
// move the cursor or fake a line of the plan.
func TestAttrValue(t *testing.T) {
	tests := []struct{ name, v, want string }{
		{"url", "https://org.crm.dynamics.com", `"https://org.crm.dynamics.com"`},
		{"description", "", `""`},
		{"description", `say "hi"`, `"say \"hi\""`},
		{"description", `C:\sync`, `"C:\\sync"`},
		{"description", "tab\there", `"tab\there"`},
		{"description", "\x1b[31mred", `"\x1b[31mred"`},
		{"description", "line\nbreak", `"line\nbreak"`},
		{"description", "del\x7f", `"del\x7f"`},
		{"description", "Kunde München", `"Kunde München"`},
		{"description", "bad \xff byte", `"bad \xff byte"`},
		{"description", "\u202eevil", `"\u202eevil"`},
		{"scopes", "", `[]`},
		{"scopes", "https://org.crm.dynamics.com/.default", `["https://org.crm.dynamics.com/.default"]`},
		{"scopes", " openid  offline_access\tprofile ", `["openid", "offline_access", "profile"]`},
		{"scopes", `a"b`, `["a\"b"]`},
	}
	for _, tt := range tests {
		if got := attrValue(tt.name, tt.v); got != tt.want {
			t.Errorf("attrValue(%q, %q) = %s, want %s", tt.name, tt.v, got, tt.want)
		}
	}
}
