package auth

import (
	"encoding/json"
	"fmt"
)

// PlainFileStore keeps grants unencrypted in a JSON file, mode 0600 in a
// 0700 directory. It exists for machines where neither a keyring nor a
// kernel key nor a passphrase can be had, and only a configuration that
// names it (token_store = "plaintext") gets it, so the choice is reviewed
// where the configuration is: whoever can read the file holds the tokens.
type PlainFileStore struct {
	grantFile
}

type plainFormat struct {
	Version int `json:"version"`
	// Encrypted is always false; it says so to whoever opens the file.
	Encrypted bool              `json:"encrypted"`
	Grants    map[string]*Grant `json:"grants"`
}

// NewPlainFileStore opens the plaintext token file at path, which need not
// exist yet; an existing one is read at once so a damaged file fails here.
// beforeCreate, when not nil, is called once before the file is first
// written, so the user is warned before any token lands in clear.
func NewPlainFileStore(path string, beforeCreate func(path string)) (*PlainFileStore, error) {
	s := &PlainFileStore{}
	s.grantFile = newGrantFile(path, s)
	s.beforeCreate = beforeCreate
	if _, err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *PlainFileStore) decode(b []byte) (map[string]*Grant, error) {
	if !identify(b) {
		return nil, &FileError{Path: s.path, Reason: "it is not JSON with the fields of a plaintext token file"}
	}
	var f plainFormat
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, &FileError{Path: s.path, Reason: "a field has a value of the wrong type", Identified: true}
	}
	if f.Version != 1 {
		return nil, &FileError{Path: s.path, Reason: fmt.Sprintf("has version %d", f.Version), Newer: f.Version > 1, Identified: true}
	}
	if f.Grants == nil {
		f.Grants = map[string]*Grant{}
	}
	return f.Grants, nil
}

func (s *PlainFileStore) encode(m map[string]*Grant) ([]byte, error) {
	return json.MarshalIndent(plainFormat{Version: 1, Grants: m}, "", "  ")
}
