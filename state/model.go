package state

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"
)

// FormatVersion is the version of the state file format this build writes.
// Every write is in this version; files of every earlier version are read.
//
//   - 1: connections only.
//   - 2: adds orphans (library files connform wrote and no longer records).
//     A build that knows only version 1 would read such a file, drop the
//     orphans on its next write and never reclaim those files; it refuses
//     version 2 instead ("newer than this connform understands").
const FormatVersion = 2

// State is one snapshot of the state file.
type State struct {
	Version         int    `json:"version"`
	Serial          uint64 `json:"serial"`
	Lineage         string `json:"lineage"`
	ConnformVersion string `json:"connform_version"`
	// Connections are kept sorted by Addr so the file diffs cleanly. Change
	// them through Put and Remove, which keep the index Lookup uses.
	Connections []*Connection `json:"connections"`
	// Orphans are library files connform wrote that no connection records
	// any more (a run killed between writing an entry and recording it, or
	// an entry whose replacement landed under another name). The next plan
	// lists them and apply removes them, when their content is still what
	// connform wrote.
	Orphans []Orphan `json:"orphans,omitempty"`

	// index maps Addr to its record, so Lookup is O(1) however large the
	// state grows: apply looks up every connection it works on.
	index map[string]*Connection
}

// Orphan is a library file connform wrote and no longer records.
type Orphan struct {
	Path string `json:"path"`
	Hash string `json:"hash"`
	// Addr is the connection it was written for.
	Addr string `json:"addr,omitempty"`
}

// Connection is what connform knows about one applied connection.
type Connection struct {
	Addr string `json:"addr"`
	Name string `json:"name"`
	Key  string `json:"key,omitempty"`

	// Attributes are the connection's non-secret configuration attributes
	// (config.Connection.Attributes) as last applied, endpoints resolved.
	Attributes map[string]string `json:"attributes"`
	// SensitiveFingerprints maps a sensitive attribute name to a salted
	// digest of its value (Fingerprint), so a changed secret shows in a plan
	// without the secret ever being stored.
	SensitiveFingerprints map[string]string `json:"sensitive_fingerprints,omitempty"`

	// Facts apply learned from the org.
	OrganizationID string    `json:"organization_id,omitempty"`
	UserID         string    `json:"user_id,omitempty"`
	BusinessUnitID string    `json:"business_unit_id,omitempty"`
	Account        string    `json:"account,omitempty"` // the signed-in user name, when delegated
	VerifiedAt     time.Time `json:"verified_at,omitzero"`
	// TokenKey names the token store entry that serves this connection.
	TokenKey string `json:"token_key,omitempty"`
	// OrganizationServiceURL and WebAPIURL are the endpoints derived from URL.
	OrganizationServiceURL string `json:"organization_service_url,omitempty"`
	WebAPIURL              string `json:"web_api_url,omitempty"`

	LibraryPath string `json:"library_path,omitempty"`
	LibraryHash string `json:"library_hash,omitempty"`
}

// New returns an empty state with a fresh lineage.
func New(connformVersion string) *State {
	return &State{Version: FormatVersion, Lineage: newLineage(), ConnformVersion: connformVersion}
}

// Lookup returns the record for addr, or nil.
func (s *State) Lookup(addr string) *Connection {
	if s == nil {
		return nil
	}
	s.ensureIndex()
	return s.index[addr]
}

// ensureIndex rebuilds the index when Connections was changed behind
// Put and Remove's back (a caller appending to the slice directly). Not
// safe for concurrent use, like every other change to a State.
func (s *State) ensureIndex() {
	if s.index != nil && len(s.index) == len(s.Connections) {
		return
	}
	sortConnections(s.Connections)
	s.index = make(map[string]*Connection, len(s.Connections))
	for _, c := range s.Connections {
		if c != nil {
			s.index[c.Addr] = c
		}
	}
}

// position finds addr in the sorted Connections.
func (s *State) position(addr string) (int, bool) {
	return slices.BinarySearchFunc(s.Connections, addr, func(c *Connection, a string) int { return cmp.Compare(c.Addr, a) })
}

// Put records c, replacing any record with its address, and keeps
// Connections sorted.
func (s *State) Put(c *Connection) {
	s.ensureIndex()
	i, found := s.position(c.Addr)
	if found {
		s.Connections[i] = c
	} else {
		s.Connections = slices.Insert(s.Connections, i, c)
	}
	s.index[c.Addr] = c
}

// Remove drops the record for addr, if any.
func (s *State) Remove(addr string) {
	s.ensureIndex()
	if i, found := s.position(addr); found {
		s.Connections = slices.Delete(s.Connections, i, i+1)
	}
	delete(s.index, addr)
}

// Records reports whether some connection records the library file path.
func (s *State) Records(path string) bool {
	for _, c := range s.Connections {
		if c.LibraryPath == path {
			return true
		}
	}
	return false
}

// addOrphan remembers o, replacing an orphan at the same path.
func (s *State) addOrphan(o Orphan) {
	s.dropOrphan(o.Path)
	s.Orphans = append(s.Orphans, o)
	slices.SortFunc(s.Orphans, func(a, b Orphan) int { return cmp.Compare(a.Path, b.Path) })
}

func (s *State) dropOrphan(path string) {
	s.Orphans = slices.DeleteFunc(s.Orphans, func(o Orphan) bool { return o.Path == path })
	if len(s.Orphans) == 0 {
		s.Orphans = nil
	}
}

func newLineage() string { return uuid.NewString() }
