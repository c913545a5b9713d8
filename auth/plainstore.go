package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"
)

// PlainFileStore keeps grants unencrypted in a JSON file, mode 0600 in a
// 0700 directory. It exists for machines where neither a keyring nor a
// kernel key nor a passphrase can be had, and only a configuration that
// names it (token_store = "plaintext") gets it, so the choice is reviewed
// where the configuration is: whoever can read the file holds the tokens.
type PlainFileStore struct {
	path string
	// BeforeCreate is called once, before the file is first written, so
	// the user is warned before any token lands in clear.
	BeforeCreate func(path string)

	mu   sync.Mutex
	lock *flock.Flock
}

type plainFormat struct {
	Version int `json:"version"`
	// Encrypted is always false; it says so to whoever opens the file.
	Encrypted bool              `json:"encrypted"`
	Grants    map[string]*Grant `json:"grants"`
}

// NewPlainFileStore opens the plaintext token file at path, which need not
// exist yet; an existing one is read at once so a damaged file fails here.
func NewPlainFileStore(path string) (*PlainFileStore, error) {
	s := &PlainFileStore{path: path, lock: flock.New(path + ".lock")}
	if _, err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Path returns the file's path.
func (s *PlainFileStore) Path() string { return s.path }

// Get returns the grant for key, or nil.
func (s *PlainFileStore) Get(key string) (*Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	return m[key], nil
}

// Put stores g under key.
func (s *PlainFileStore) Put(key string, g *Grant) error {
	return s.update(func(m map[string]*Grant) { m[key] = g })
}

// Delete removes key.
func (s *PlainFileStore) Delete(key string) error {
	return s.update(func(m map[string]*Grant) { delete(m, key) })
}

func (s *PlainFileStore) update(change func(map[string]*Grant)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("cannot create the directory of the token file %s: %w", s.path, err)
	}
	if err := s.lock.Lock(); err != nil {
		return fmt.Errorf("cannot lock the token file %s: %w", s.path, err)
	}
	defer s.lock.Unlock()
	m, err := s.load()
	if err != nil {
		return err
	}
	change(m)
	if _, err := os.Stat(s.path); errors.Is(err, fs.ErrNotExist) && s.BeforeCreate != nil {
		s.BeforeCreate(s.path)
		s.BeforeCreate = nil
	}
	b, err := json.MarshalIndent(plainFormat{Version: 1, Grants: m}, "", "  ")
	if err != nil {
		return fmt.Errorf("cannot encode the tokens: %w", err)
	}
	return writeFileAtomic(s.path, b)
}

// load reads the file; a missing file is an empty store.
func (s *PlainFileStore) load() (map[string]*Grant, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*Grant{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the token file %s: %w", s.path, err)
	}
	var f plainFormat
	if err := json.Unmarshal(b, &f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("the token file %s is damaged or not a connform plaintext token file; delete it and sign in again", s.path)
	}
	if f.Grants == nil {
		f.Grants = map[string]*Grant{}
	}
	return f.Grants, nil
}
