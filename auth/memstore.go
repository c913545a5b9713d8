package auth

import (
	"maps"
	"sync"
)

// MemoryStore keeps grants in memory only; they are gone when the process
// exits. For tests and for CONNFORM_TOKEN_STORE=memory.
type MemoryStore struct {
	mu     sync.Mutex
	grants map[string]*Grant
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{grants: map[string]*Grant{}} }

// Get returns a copy of the grant for key, or nil.
func (s *MemoryStore) Get(key string) (*Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneGrant(s.grants[key]), nil
}

// Put stores a copy of g under key.
func (s *MemoryStore) Put(key string, g *Grant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.grants[key] = cloneGrant(g)
	return nil
}

// Delete forgets key.
func (s *MemoryStore) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.grants, key)
	return nil
}

// cloneGrant copies g so that callers cannot change a stored grant behind
// the store's lock.
func cloneGrant(g *Grant) *Grant {
	if g == nil {
		return nil
	}
	c := *g
	if g.Access != nil {
		c.Access = make(map[string]*AccessToken, len(g.Access))
		for k, t := range maps.All(g.Access) {
			if t == nil {
				c.Access[k] = nil
				continue
			}
			tc := *t
			tc.Scopes = append([]string(nil), t.Scopes...)
			tc.Requested = append([]string(nil), t.Requested...)
			c.Access[k] = &tc
		}
	}
	return &c
}
