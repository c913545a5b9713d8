package auth

import (
	"strings"
	"sync"
)

// What connform learns about a provider belongs to its authority, not to
// one app or account of it: whether its refresh tokens span resources is
// the provider's behaviour. It is kept in the token store under a reserved
// key beside the account keys, so every store (file, plaintext, keyring)
// keeps it without a new interface, and a logout of one account, which
// deletes only that account's key, leaves it. Account keys always hold two
// "|", which a reserved key never does, so the two cannot collide.
const authorityKeyPrefix = "authority:"

// AuthorityKey is the store key of the record connform keeps for the
// authority (token endpoint host and tenant) of the account key.
func AuthorityKey(key string) string {
	authority, _, _ := SplitKey(key)
	return authorityKeyPrefix + authority
}

// withAuthority is g as decisions see it once its authority's record rec
// is known: when the authority's refresh tokens do not span resources, an
// account that has not met that yet (another app or account of the same
// provider) keeps its refresh token for the org it came from, and every
// other org signs in on its own. g itself is not changed.
func withAuthority(g, rec *Grant) *Grant {
	if rec == nil || rec.RefreshPerResource == "" || (g != nil && g.RefreshPerResource != "") {
		return g
	}
	c := cloneGrant(g)
	if c == nil {
		c = &Grant{}
	}
	c.RefreshPerResource = rec.RefreshPerResource
	if c.RefreshToken != "" && c.RefreshResource != "" {
		if c.Access == nil {
			c.Access = map[string]*AccessToken{}
		}
		at := c.Access[c.RefreshResource]
		if at == nil {
			at = &AccessToken{}
			c.Access[c.RefreshResource] = at
		}
		at.RefreshToken = c.RefreshToken
	}
	// A refresh token of an unknown org (stored before connform noted the
	// org) cannot be matched to one: refreshFor no longer offers it.
	c.RefreshToken, c.RefreshResource = "", ""
	return c
}

// authorityRecord is what a per-authority record holds: the note only.
func authorityRecord(note string) *Grant { return &Grant{RefreshPerResource: note} }

// GrantReader reads grants for decisions (plan, auth status) without
// touching the network: each account key once, and each authority's record
// once, however many connections share them. A store entry that cannot be
// read counts as none: the decision is then a sign-in, which apply makes.
// It is safe for concurrent use.
type GrantReader struct {
	store   Store
	mu      sync.Mutex
	grants  map[string]*Grant
	records map[string]*Grant
}

// NewGrantReader reads from s.
func NewGrantReader(s Store) *GrantReader {
	return &GrantReader{store: s, grants: map[string]*Grant{}, records: map[string]*Grant{}}
}

// Grant is key's grant as decisions see it (see withAuthority).
func (r *GrantReader) Grant(key string) *Grant {
	r.mu.Lock()
	defer r.mu.Unlock()
	if g, ok := r.grants[key]; ok {
		return g
	}
	g, _ := r.store.Get(key)
	if g == nil || g.RefreshPerResource == "" {
		ak := AuthorityKey(key)
		rec, ok := r.records[ak]
		if !ok {
			rec, _ = r.store.Get(ak)
			r.records[ak] = rec
		}
		g = withAuthority(g, rec)
	}
	r.grants[key] = g
	return g
}

// ForgetAuthorities deletes the records of the authorities of keys, each
// once, and returns the authorities whose record said something.
func ForgetAuthorities(s Store, keys []string) ([]string, error) {
	var forgot []string
	done := map[string]bool{}
	for _, k := range keys {
		ak := AuthorityKey(k)
		if done[ak] {
			continue
		}
		done[ak] = true
		rec, _ := s.Get(ak)
		if err := s.Delete(ak); err != nil {
			return forgot, err
		}
		if rec != nil && rec.RefreshPerResource != "" {
			forgot = append(forgot, strings.TrimPrefix(ak, authorityKeyPrefix))
		}
	}
	return forgot, nil
}
