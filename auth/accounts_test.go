package auth

import (
	"reflect"
	"slices"
	"testing"
)

func TestAccounts(t *testing.T) {
	const k1, k2, k3 = "login.example/t|app|default", "login.example/t|app|app", "login.example/t|other|default"
	holders := []Holder{
		// The configuration's connections first, then the state's.
		{Addr: "connection.b", Key: k1},
		{Addr: "connection.a", Key: k1},
		{Addr: "connection.svc", Key: k2},
		{Addr: "connection.new", Key: ""},
		{Addr: "connection.b", Key: k1, User: "ann@example.com"},
		{Addr: "connection.gone", Key: k3, User: "bob@example.com"},
		{Addr: "connection.moved", Key: k2},
	}
	tests := []struct {
		name     string
		selected []string
		want     []*Account
	}{
		{"nothing selected", nil, nil},
		{"one connection loses its account's every connection", []string{"connection.a"},
			[]*Account{{Key: k1, Addrs: []string{"connection.a", "connection.b"}, User: "ann@example.com"}}},
		{"a connection only the state remembers", []string{"connection.gone"},
			[]*Account{{Key: k3, Addrs: []string{"connection.gone"}, User: "bob@example.com"}}},
		{"a connection never applied has nothing to forget", []string{"connection.new"}, nil},
		{"keys in the order first selected", []string{"connection.moved", "connection.b"},
			[]*Account{
				{Key: k1, Addrs: []string{"connection.a", "connection.b"}, User: "ann@example.com"},
				{Key: k2, Addrs: []string{"connection.moved", "connection.svc"}},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Accounts(holders, func(addr string) bool { return slices.Contains(tt.selected, addr) })
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", deref(got), deref(tt.want))
			}
		})
	}
}

func deref(as []*Account) []Account {
	var out []Account
	for _, a := range as {
		out = append(out, *a)
	}
	return out
}

func TestSplitKey(t *testing.T) {
	for _, tt := range []struct{ key, authority, client, account string }{
		{Key("https://login.microsoftonline.com/t/oauth2/v2.0/token", "app", "Ann@Example.com"), "login.microsoftonline.com/t", "app", "ann@example.com"},
		{Key("https://idp.example/token", "c", ""), "idp.example/token", "c", "default"},
		{"hand-written", "hand-written", "", ""},
	} {
		a, c, acct := SplitKey(tt.key)
		if a != tt.authority || c != tt.client || acct != tt.account {
			t.Errorf("SplitKey(%q) = %q, %q, %q", tt.key, a, c, acct)
		}
	}
}
