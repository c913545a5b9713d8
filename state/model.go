package state

import (
	"time"

	"github.com/google/uuid"
)

// FormatVersion is the version of the state file format this build writes.
const FormatVersion = 1

// State is one snapshot of the state file.
type State struct {
	Version         int    `json:"version"`
	Serial          uint64 `json:"serial"`
	Lineage         string `json:"lineage"`
	ConnformVersion string `json:"connform_version"`
	// Connections are kept sorted by Addr so the file diffs cleanly.
	Connections []*Connection `json:"connections"`
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
	for _, c := range s.Connections {
		if c.Addr == addr {
			return c
		}
	}
	return nil
}

func newLineage() string { return uuid.NewString() }
