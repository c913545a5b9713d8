package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/gofrs/flock"
)

// grantFile is a token file that several connform processes share: every
// change is a read-modify-write under a file lock, replacing the file
// atomically, so that two runs do not lose each other's tokens. Its codec
// says what the bytes on disk are (encrypted or not).
type grantFile struct {
	path  string
	codec grantCodec
	// beforeCreate, when set, is called once before the file is first
	// written.
	beforeCreate func(path string)

	mu   sync.Mutex // one read-modify-write at a time in this process; guards the codec too
	lock *flock.Flock
}

// grantCodec turns a token file's bytes into grants and back.
type grantCodec interface {
	decode(b []byte) (map[string]*Grant, error)
	encode(m map[string]*Grant) ([]byte, error)
}

func newGrantFile(path string, codec grantCodec) grantFile {
	return grantFile{path: path, codec: codec, lock: flock.New(path + ".lock")}
}

// Path returns the file's path.
func (s *grantFile) Path() string { return s.path }

// Get returns the grant for key, or nil.
func (s *grantFile) Get(key string) (*Grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	return m[key], nil
}

// Put stores g under key.
func (s *grantFile) Put(key string, g *Grant) error {
	return s.update(func(m map[string]*Grant) { m[key] = g })
}

// Delete removes key.
func (s *grantFile) Delete(key string) error {
	return s.update(func(m map[string]*Grant) { delete(m, key) })
}

func (s *grantFile) update(change func(map[string]*Grant)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the directory of the token file %s: %w", s.path, err)
	}
	// A folder connform creates is private. One that exists already may be
	// shared (CONNFORM_HOME=/tmp): changing its mode would break it for
	// others, and writing tokens into it would let them swap the file.
	if fi, err := os.Stat(dir); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("the token folder %s can be written by other users (mode %v), who could replace the token file; set CONNFORM_HOME to a folder of your own (connform creates it private)", dir, fi.Mode().Perm())
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
	b, err := s.codec.encode(m)
	if err != nil {
		return err
	}
	if _, err := os.Stat(s.path); errors.Is(err, fs.ErrNotExist) && s.beforeCreate != nil {
		s.beforeCreate(s.path)
		s.beforeCreate = nil
	}
	return writeFileAtomic(s.path, b)
}

// load reads the file; a missing file is an empty store.
func (s *grantFile) load() (map[string]*Grant, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*Grant{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the token file %s: %w", s.path, err)
	}
	return s.codec.decode(b)
}
