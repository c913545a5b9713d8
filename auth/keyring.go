package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/zalando/go-keyring"
)

// KeyringStore keeps each grant as one item of the OS keyring (Secret
// Service on Linux, Keychain on macOS, Credential Manager on Windows), the
// item's value being the grant as JSON.
//
// Windows and macOS cap an item's value (keyring_*.go): a refresh token
// with one access token is already over Windows' 2,560 bytes. There a grant
// that does not fit is split over several items: the head item, under the
// key, says how many parts follow and the digest of the whole, and the
// parts are named by that digest. Parts are written before the head and the
// old ones removed after, so an interrupted write leaves the previous grant
// readable, never a mix.
type KeyringStore struct {
	service string
	// max is the largest value one item may hold; 0 means no limit.
	max int
	kr  keyringAPI
	// The keyring backends are not all safe for concurrent use (the mock is
	// not), and a grant is small: serialising costs nothing.
	mu sync.Mutex
}

// keyringAPI is go-keyring's package API; tests give a fake with limits.
type keyringAPI interface {
	Get(service, user string) (string, error)
	Set(service, user, value string) error
	Delete(service, user string) error
}

type goKeyring struct{}

func (goKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (goKeyring) Set(s, u, v string) error        { return keyring.Set(s, u, v) }
func (goKeyring) Delete(s, u string) error        { return keyring.Delete(s, u) }

// NewKeyringStore returns a store of items under service (e.g. "connform").
func NewKeyringStore(service string) *KeyringStore {
	return &KeyringStore{service: service, max: keyringValueMax, kr: goKeyring{}}
}

// partsPrefix starts a head item; a grant's JSON starts with "{".
const partsPrefix = "connform-parts:"

// maxParts bounds what a head item may claim: a grant is a few kilobytes.
const maxParts = 64

// head is a parsed head item: n parts after the first, named by digest.
type head struct {
	n      int
	digest string
	first  string
}

func parseHead(v string) (head, bool) {
	rest, ok := strings.CutPrefix(v, partsPrefix)
	if !ok {
		return head{}, false
	}
	line, first, ok := strings.Cut(rest, "\n")
	ns, digest, ok2 := strings.Cut(line, ":")
	n, err := strconv.Atoi(ns)
	if !ok || !ok2 || err != nil || n < 1 || n > maxParts || len(digest) != 16 || strings.Trim(digest, "0123456789abcdef") != "" {
		return head{}, false
	}
	return head{n: n, digest: digest, first: first}, true
}

func partKey(key, digest string, i int) string {
	return fmt.Sprintf("%s#%s.%d", key, digest, i)
}

// Get returns the grant for key, or nil when the keyring has none.
func (s *KeyringStore) Get(key string) (*Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.kr.Get(s.service, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the token for %s from the OS keyring: %w", key, err)
	}
	if h, ok := parseHead(v); ok {
		var b strings.Builder
		b.WriteString(h.first)
		for i := 1; i <= h.n; i++ {
			p, err := s.kr.Get(s.service, partKey(key, h.digest, i))
			if err != nil {
				return nil, fmt.Errorf("cannot read part %d of %d of the token for %s from the OS keyring (%v): run connform logout for it and sign in again", i, h.n, key, err)
			}
			b.WriteString(p)
		}
		if v = b.String(); digestOf(v) != h.digest {
			return nil, fmt.Errorf("the OS keyring items of the token for %s do not fit together: run connform logout for it and sign in again", key)
		}
	}
	var g Grant
	if err := json.Unmarshal([]byte(v), &g); err != nil {
		// The value is secret: do not echo it.
		return nil, fmt.Errorf("the OS keyring item %s/%s is not a connform token (delete it and sign in again)", s.service, key)
	}
	escapeGrant(&g)
	return &g, nil
}

func digestOf(v string) string {
	d := sha256.Sum256([]byte(v))
	return hex.EncodeToString(d[:8])
}

// split cuts v into a head item and its parts, each at most max bytes, or
// returns v alone when it fits. A cut may fall inside a UTF-8 character:
// the keyrings that need parts keep bytes as given, and the parts are
// joined before decoding.
func split(v string, max int) (first string, parts []string) {
	if max <= 0 || len(v) <= max {
		return v, nil
	}
	digest := digestOf(v)
	// The head's line grows with the part count; a generous bound keeps it
	// one computation.
	room := max - len(partsPrefix+"00:"+digest+"\n")
	first, rest := v[:room], v[room:]
	for len(rest) > 0 {
		n := min(max, len(rest))
		parts = append(parts, rest[:n])
		rest = rest[n:]
	}
	return fmt.Sprintf("%s%d:%s\n%s", partsPrefix, len(parts), digest, first), parts
}

// Put stores g under key.
func (s *KeyringStore) Put(key string, g *Grant) error {
	b, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("cannot encode the token for %s: %w", key, err)
	}
	first, parts := split(string(b), s.max)
	if len(parts) > maxParts {
		return fmt.Errorf("the token for %s is too large for the OS keyring (%d bytes); set CONNFORM_TOKEN_STORE=file", key, len(b))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, _ := s.kr.Get(s.service, key)
	oldHead, hadParts := parseHead(old)
	if len(parts) > 0 {
		h, _ := parseHead(first)
		for i, p := range parts {
			if err := s.kr.Set(s.service, partKey(key, h.digest, i+1), p); err != nil {
				return fmt.Errorf("cannot save the token for %s in the OS keyring: %w", key, err)
			}
		}
	}
	if err := s.kr.Set(s.service, key, first); err != nil {
		return fmt.Errorf("cannot save the token for %s in the OS keyring: %w", key, err)
	}
	if hadParts {
		if h, ok := parseHead(first); !ok || h.digest != oldHead.digest {
			s.deleteParts(key, oldHead)
		}
	}
	return nil
}

// deleteParts removes a head's parts. What is left (a part another process
// removed first, a keyring that fails now) is only an unreadable leftover,
// so failures are not the caller's.
func (s *KeyringStore) deleteParts(key string, h head) {
	for i := 1; i <= h.n; i++ {
		_ = s.kr.Delete(s.service, partKey(key, h.digest, i))
	}
}

// Delete removes key; an absent key is not an error.
func (s *KeyringStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, _ := s.kr.Get(s.service, key)
	if err := s.kr.Delete(s.service, key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("cannot delete the token for %s from the OS keyring: %w", key, err)
	}
	if h, ok := parseHead(old); ok {
		s.deleteParts(key, h)
	}
	return nil
}
