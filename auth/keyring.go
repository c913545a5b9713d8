package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/zalando/go-keyring"
)

// KeyringStore keeps each grant as one item of the OS keyring (Secret
// Service on Linux, Keychain on macOS, Credential Manager on Windows), the
// item's value being the grant as JSON.
type KeyringStore struct {
	service string
	// The keyring backends are not all safe for concurrent use (the mock is
	// not), and a grant is small: serialising costs nothing.
	mu sync.Mutex
}

// NewKeyringStore returns a store of items under service (e.g. "connform").
func NewKeyringStore(service string) *KeyringStore { return &KeyringStore{service: service} }

// Get returns the grant for key, or nil when the keyring has none.
func (s *KeyringStore) Get(key string) (*Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := keyring.Get(s.service, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the token for %s from the OS keyring: %w", key, err)
	}
	var g Grant
	if err := json.Unmarshal([]byte(v), &g); err != nil {
		// The value is secret: do not echo it.
		return nil, fmt.Errorf("the OS keyring item %s/%s is not a connform token (delete it and sign in again)", s.service, key)
	}
	escapeGrant(&g)
	return &g, nil
}

// Put stores g under key.
func (s *KeyringStore) Put(key string, g *Grant) error {
	b, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("cannot encode the token for %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := keyring.Set(s.service, key, string(b)); err != nil {
		return fmt.Errorf("cannot save the token for %s in the OS keyring: %w", key, err)
	}
	return nil
}

// Delete removes key; an absent key is not an error.
func (s *KeyringStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := keyring.Delete(s.service, key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("cannot delete the token for %s from the OS keyring: %w", key, err)
	}
	return nil
}
