package auth

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

// limitedKeyring is an OS keyring that refuses values over max bytes, as
// Credential Manager and the Keychain do, and fails every Set after
// failAfter of them (when set), as a process killed mid-write would stop.
type limitedKeyring struct {
	max       int
	items     map[string]string
	sets      int
	failAfter int
}

func (k *limitedKeyring) Get(s, u string) (string, error) {
	if v, ok := k.items[s+"/"+u]; ok {
		return v, nil
	}
	return "", keyring.ErrNotFound
}

func (k *limitedKeyring) Set(s, u, v string) error {
	if k.max > 0 && len(v) > k.max {
		return keyring.ErrSetDataTooBig
	}
	if k.failAfter < 0 || k.failAfter > 0 && k.sets >= k.failAfter {
		return errors.New("killed")
	}
	k.sets++
	k.items[s+"/"+u] = v
	return nil
}

func (k *limitedKeyring) Delete(s, u string) error {
	if _, ok := k.items[s+"/"+u]; !ok {
		return keyring.ErrNotFound
	}
	delete(k.items, s+"/"+u)
	return nil
}

// bigGrant is the size of a real Entra grant: a refresh token and two
// access tokens of some 1.5 to 2 kB each.
func bigGrant(tag string) *Grant {
	g := &Grant{Account: "ann@contoso.example", RefreshToken: strings.Repeat("R"+tag, 800), Access: map[string]*AccessToken{}}
	for i, org := range []string{"https://a.crm.dynamics.com", "https://b.crm.dynamics.com"} {
		g.Access[org] = &AccessToken{Token: strings.Repeat(fmt.Sprintf("A%d%s", i, tag), 600), Expiry: time.Date(2026, 3, 4, 6, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)}
	}
	return g
}

// TestKeyringStoreLimits: a grant larger than one item of Windows'
// Credential Manager (2,560 bytes) or the Keychain (2,048 as go-keyring
// writes it) is kept in several items, each within the limit, and reads
// back whole; replacing or deleting it leaves no part behind; a grant that
// fits stays the one item older connform versions wrote and read.
func TestKeyringStoreLimits(t *testing.T) {
	for _, max := range []int{2560, 2048, 0} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			kr := &limitedKeyring{max: max, items: map[string]string{}}
			s := &KeyringStore{service: "connform", max: max, kr: kr}
			small := sampleGrant()
			if err := s.Put("k", small); err != nil {
				t.Fatal(err)
			}
			if len(kr.items) != 1 || !strings.HasPrefix(kr.items["connform/k"], "{") {
				t.Errorf("a small grant is %d items, want 1 of plain JSON", len(kr.items))
			}
			for _, tag := range []string{"x", "y"} {
				want := bigGrant(tag)
				if err := s.Put("k", want); err != nil {
					t.Fatalf("Put of a %s grant: %v", tag, err)
				}
				for name, v := range kr.items {
					if max > 0 && len(v) > max {
						t.Errorf("item %s holds %d bytes, over %d", name, len(v), max)
					}
				}
				got, err := s.Get("k")
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("Get = %v, %v; want the %s grant", got != nil, err, tag)
				}
			}
			if max > 0 && len(kr.items) < 3 {
				t.Errorf("the grant is %d items; it cannot fit in fewer than 3", len(kr.items))
			}
			n := len(kr.items)
			if err := s.Put("k", bigGrant("y")); err != nil {
				t.Fatal(err)
			}
			if len(kr.items) != n {
				t.Errorf("rewriting the same grant left %d items, want %d", len(kr.items), n)
			}
			if err := s.Put("k", small); err != nil {
				t.Fatal(err)
			}
			if len(kr.items) != 1 {
				t.Errorf("a small grant after a big one left %d items, want 1", len(kr.items))
			}
			if err := s.Put("k", bigGrant("x")); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete("k"); err != nil {
				t.Fatal(err)
			}
			if len(kr.items) != 0 {
				t.Errorf("Delete left %d items: %v", len(kr.items), kr.items)
			}
		})
	}
}

// TestKeyringStoreInterrupted: a write that stops between items leaves the
// previous grant readable; parts that do not fit together are reported,
// not decoded into a token.
func TestKeyringStoreInterrupted(t *testing.T) {
	items := 3 // bigGrant's head and two parts
	for stop := 0; stop < items; stop++ {
		kr := &limitedKeyring{max: 2560, items: map[string]string{}}
		s := &KeyringStore{service: "connform", max: 2560, kr: kr}
		before := bigGrant("x")
		if err := s.Put("k", before); err != nil {
			t.Fatal(err)
		}
		if len(kr.items) != items {
			t.Fatalf("the grant is %d items, want %d", len(kr.items), items)
		}
		kr.failAfter = kr.sets + stop
		if stop == 0 {
			kr.failAfter = -1 // fails the first
		}
		if err := s.Put("k", bigGrant("y")); err == nil {
			t.Fatalf("stopped after %d items: Put reported success", stop)
		}
		if got, err := s.Get("k"); err != nil || !reflect.DeepEqual(got, before) {
			t.Errorf("stopped after %d items: Get = %v, %v; want the previous grant", stop, got != nil, err)
		}
	}

	kr := &limitedKeyring{max: 2560, items: map[string]string{}}
	s := &KeyringStore{service: "connform", max: 2560, kr: kr}
	if err := s.Put("k", bigGrant("x")); err != nil {
		t.Fatal(err)
	}
	for name, v := range kr.items {
		if name != "connform/k" {
			kr.items[name] = strings.ToUpper(v)
			break
		}
	}
	if g, err := s.Get("k"); g != nil || err == nil || !strings.Contains(err.Error(), "connform logout") || strings.Contains(err.Error(), "RX") {
		t.Errorf("altered part: Get = %v, %v; want an error naming the way out and no token", g != nil, err)
	}
}

// TestParseHead: a hostile or damaged head item is not taken for one.
func TestParseHead(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"connform-parts:2:0123456789abcdef\n{", true},
		{"connform-parts:64:0123456789abcdef\n", true},
		{"connform-parts:65:0123456789abcdef\n", false},
		{"connform-parts:0:0123456789abcdef\n", false},
		{"connform-parts:-1:0123456789abcdef\n", false},
		{"connform-parts:2:0123456789ABCDEF\n", false},
		{"connform-parts:2:0123\n", false},
		{"connform-parts:2:0123456789abcdef", false},
		{`{"account":"connform-parts:2"}`, false},
	} {
		if _, ok := parseHead(tc.v); ok != tc.ok {
			t.Errorf("parseHead(%q) = %v, want %v", tc.v, ok, tc.ok)
		}
	}
}
