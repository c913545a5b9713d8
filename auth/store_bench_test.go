package auth

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedFile writes a token file of n accounts, each with a refresh token and
// one access token, as one write.
func seedFile(b *testing.B, s *FileStore, n int) []string {
	keys := make([]string, n)
	m := map[string]*Grant{}
	for i := range keys {
		keys[i] = fmt.Sprintf("login.example|client|user%05d@example.com", i)
		m[keys[i]] = &Grant{Account: keys[i], RefreshToken: strings.Repeat("r", 1000), Access: map[string]*AccessToken{
			"https://org0.crm.dynamics.com": {Token: strings.Repeat("a", 1500), Expiry: time.Now().Add(time.Hour)},
		}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.update(func(cur map[string]*Grant) {
		for k, g := range m {
			cur[k] = g
		}
	}); err != nil {
		b.Fatal(err)
	}
	return keys
}

// BenchmarkStoreAccess is one command's use of the token store for n
// connections: open it, then per connection a Get and a Put of a new access
// token (what apply does for an org whose token expired), then Flush. It
// uses the kernel keyring's kind of key (HKDF), as most machines without an
// OS keyring do. Run: go test ./auth -run XXX -bench BenchmarkStore -benchtime 5x
func BenchmarkStoreAccess(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "tokens.enc")
			key := []byte(strings.Repeat("k", 32))
			seed, err := NewKeyFileStore(path, key)
			if err != nil {
				b.Fatal(err)
			}
			keys := seedFile(b, seed, n)
			exp := time.Now().Add(2 * time.Hour)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s, err := NewKeyFileStore(path, key)
				if err != nil {
					b.Fatal(err)
				}
				for _, k := range keys {
					g, err := s.Get(k)
					if err != nil {
						b.Fatal(err)
					}
					g.Access["https://org1.crm.dynamics.com"] = &AccessToken{Token: strings.Repeat("b", 1500), Expiry: exp}
					if err := s.Put(k, g); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.Flush(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(s.writes), "writes/op")
			}
		})
	}
}

// BenchmarkStoreRotate is the worst case: every Put carries a rotated
// refresh token, which must be on disk before Put returns.
func BenchmarkStoreRotate(b *testing.B) {
	const n = 100
	path := filepath.Join(b.TempDir(), "tokens.enc")
	key := []byte(strings.Repeat("k", 32))
	seed, err := NewKeyFileStore(path, key)
	if err != nil {
		b.Fatal(err)
	}
	keys := seedFile(b, seed, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, err := NewKeyFileStore(path, key)
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range keys {
			g, _ := s.Get(k)
			g.RefreshToken = fmt.Sprintf("%s-%d", strings.Repeat("r", 1000), i)
			if err := s.Put(k, g); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkStoreOpen is what every command pays to open an existing token
// file: scrypt for a passphrase (connform's real cost, 2^15), HKDF for a
// random key.
func BenchmarkStoreOpen(b *testing.B) {
	defer func(n int) { scryptN = n }(scryptN)
	scryptN = 1 << 15
	key := []byte(strings.Repeat("k", 32))
	for _, tt := range []struct {
		name string
		open func(path string) (*FileStore, error)
	}{
		{"passphrase", func(p string) (*FileStore, error) { return NewFileStore(p, key) }},
		{"random-key", func(p string) (*FileStore, error) { return NewKeyFileStore(p, key) }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "tokens.enc")
			s, err := tt.open(path)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Put("k", sampleGrant()); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := tt.open(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
