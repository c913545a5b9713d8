package auth

import (
	"slices"
	"strings"
)

// SplitKey reads a key Key wrote back into its authority, client id and
// account. A key of another shape (a store entry written by hand) is all
// authority.
func SplitKey(key string) (authority, client, account string) {
	parts := strings.SplitN(key, "|", 3)
	if len(parts) != 3 {
		return key, "", ""
	}
	return parts[0], parts[1], parts[2]
}

// Holder is a connection whose tokens a store key holds, as the
// configuration knows it (User "") or the state remembers it (the user who
// signed in).
type Holder struct {
	Addr, Key, User string
}

// Account is a token store key to act on, and every connection it serves.
type Account struct {
	Key string
	// Addrs are the connections the key serves, sorted: selected or not,
	// since tokens belong to the account, not the connection.
	Addrs []string
	// User is who signed in for the key, as the state remembers it.
	User string
}

// Accounts returns the keys of the holders selected says, each with every
// holder it serves, in the order the keys were first selected. Logging out
// a connection forgets its account's tokens, so a person must see every
// connection that loses them; a holder without a key (never applied) has
// none to forget.
func Accounts(holders []Holder, selected func(addr string) bool) []*Account {
	var out []*Account
	byKey := map[string]*Account{}
	for _, h := range holders {
		if h.Key == "" || byKey[h.Key] != nil || !selected(h.Addr) {
			continue
		}
		a := &Account{Key: h.Key}
		byKey[h.Key] = a
		out = append(out, a)
	}
	for _, h := range holders {
		a := byKey[h.Key]
		if a == nil {
			continue
		}
		if !slices.Contains(a.Addrs, h.Addr) {
			a.Addrs = append(a.Addrs, h.Addr)
		}
		if a.User == "" {
			a.User = h.User
		}
	}
	for _, a := range out {
		slices.Sort(a.Addrs)
	}
	return out
}
