package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"connform/internal/safetext"
)

// grantFile is a token file that several connform processes share. Its
// codec says what the bytes on disk are (encrypted or not).
//
// The file is decoded once and kept; a Get costs a stat, and the file is
// decoded again only when another process replaced it, so concurrent runs
// still see each other's tokens. Writes are read-modify-writes under a file
// lock, replacing the file atomically, so that two runs do not lose each
// other's tokens.
//
// When a write happens is decided by what changed. A new or dropped refresh
// token is written before Put returns: Entra rotates refresh tokens, and an
// access token must not be used while the only copy of the refresh token
// that came with it is in memory (a crash would lose the account's
// sign-in). Removing an access token is written at once too, so that no
// merge brings it back. A grant that only gained access tokens is kept in
// memory and written by Flush, once per run, not once per connection: a
// crash loses only tokens that can be fetched again.
type grantFile struct {
	path  string
	codec grantCodec
	// beforeCreate, when set, is called once before the file is first
	// written.
	beforeCreate func(path string)

	mu   sync.Mutex // guards everything below, and the codec
	lock *flock.Flock

	// disk is the file's content as last read or written; seen is the file
	// it came from (nil when there was none). loaded says disk is valid.
	disk   map[string]*Grant
	seen   os.FileInfo
	loaded bool
	// pending holds grants that only gained access tokens since they were
	// last written; Flush writes them.
	pending map[string]*Grant
	// decodes and writes count file decodes and writes, for tests and
	// benchmarks.
	decodes, writes int
}

// lockWait bounds the wait for another process's write of the token file.
var lockWait = 30 * time.Second // tests shorten it

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
	return cloneGrant(view(m[key], s.pending[key])), nil
}

// Put stores g under key: on disk at once when the refresh token changed
// or an access token was dropped, else at Flush.
func (s *grantFile) Put(key string, g *Grant) error {
	if g == nil {
		return s.Delete(key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load()
	if err != nil {
		return err
	}
	cur := view(m[key], s.pending[key])
	if !durableChange(cur, g) {
		if s.pending == nil {
			s.pending = map[string]*Grant{}
		}
		s.pending[key] = cloneGrant(g)
		return nil
	}
	g = cloneGrant(g)
	if err := s.update(func(m map[string]*Grant) { m[key] = g }); err != nil {
		return err
	}
	delete(s.pending, key)
	return nil
}

// Delete removes key, on disk at once.
func (s *grantFile) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, key)
	m, err := s.load()
	if err != nil {
		return err
	}
	if _, ok := m[key]; !ok {
		// Nothing to remove: do not create a file to say so.
		return nil
	}
	return s.update(func(m map[string]*Grant) { delete(m, key) })
}

// Flush writes the grants that only gained access tokens, merged into what
// the file holds now. Commands call it once, at their end.
func (s *grantFile) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return nil
	}
	pending := s.pending
	err := s.update(func(m map[string]*Grant) {
		for k, p := range pending {
			if v := view(m[k], p); v != nil {
				m[k] = v
			}
		}
	})
	if err == nil {
		s.pending = nil
	}
	return err
}

// durableChange reports whether storing g where cur is must reach the disk
// before Put returns: the refresh token changed, or an access token went.
func durableChange(cur, g *Grant) bool {
	if cur == nil {
		// An authority's record holds only the note; learnt from a refused
		// refresh, it must outlive a crash like the drop it came with.
		return g.RefreshToken != "" || g.RefreshDropped != "" || g.RefreshPerResource != ""
	}
	if cur.RefreshToken != g.RefreshToken || cur.RefreshDropped != g.RefreshDropped ||
		cur.RefreshResource != g.RefreshResource || cur.RefreshPerResource != g.RefreshPerResource {
		return true
	}
	for res, t := range cur.Access {
		if t == nil {
			continue
		}
		// Dropped (an org refused it), an org's own refresh token rotated,
		// or a narrower grant accepted: none of these may wait for Flush,
		// whose merge keeps the longer-lived token.
		n := g.Access[res]
		if n == nil || (t.Token != "" && n.Token == "") || t.RefreshToken != n.RefreshToken || t.Accepted != n.Accepted {
			return true
		}
	}
	for res, n := range g.Access {
		if n != nil && n.RefreshToken != "" && cur.Access[res] == nil {
			return true
		}
	}
	return false
}

// view is the grant a key has, given what the file holds (d) and what this
// process has not written yet (p). p differs from what it was derived from
// only by new access tokens, so the file's refresh token wins: another
// process may have rotated it since. A key another process deleted (a
// logout) stays deleted, unless it never had a refresh token.
func view(d, p *Grant) *Grant {
	switch {
	case p == nil:
		return d
	case d == nil && p.RefreshToken != "":
		return nil
	case d == nil:
		return p
	}
	g := cloneGrant(d)
	if g.Account == "" {
		g.Account = p.Account
	}
	for res, t := range p.Access {
		if t == nil {
			continue
		}
		if g.Access == nil {
			g.Access = map[string]*AccessToken{}
		}
		// Another process's token that lives longer is the newer one.
		if cur := g.Access[res]; cur == nil || !cur.Expiry.After(t.Expiry) {
			tc := *t
			g.Access[res] = &tc
		}
	}
	return g
}

// update applies change to the file's content under the file lock and
// writes it. s.mu is held.
func (s *grantFile) update(change func(map[string]*Grant)) error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the directory of the token file %s: %w", s.path, err)
	}
	if err := checkTokenDir(dir); err != nil {
		return err
	}
	// Every holder of the lock only reads, merges and writes one file: a
	// lock held for long belongs to a process that hangs, and waiting on
	// it for ever would hang this one too.
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	if ok, err := s.lock.TryLockContext(ctx, 20*time.Millisecond); !ok || err != nil {
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("the token file %s is locked by another process (%s.lock) and was not released within %v: is a connform hanging?", s.path, s.path, lockWait)
		}
		return fmt.Errorf("cannot lock the token file %s: %w", s.path, err)
	}
	defer s.lock.Unlock()
	m, err := s.load()
	if err != nil {
		return err
	}
	// The cached map is changed in place; until the write succeeds it no
	// longer says what the file holds.
	s.loaded = false
	change(m)
	b, err := s.codec.encode(m)
	if err != nil {
		return err
	}
	if s.seen == nil && s.beforeCreate != nil {
		s.beforeCreate(s.path)
		s.beforeCreate = nil
	}
	if err := writeFileAtomic(s.path, b); err != nil {
		return err
	}
	s.writes++
	if fi, err := os.Stat(s.path); err == nil {
		s.disk, s.seen, s.loaded = m, fi, true
	}
	return nil
}

// load returns the file's grants: the cached ones while the file is the
// one they came from, else the file decoded anew. A missing file is an
// empty store. s.mu is held.
func (s *grantFile) load() (map[string]*Grant, error) {
	fi, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		if !s.loaded || s.seen != nil {
			s.disk, s.seen, s.loaded = map[string]*Grant{}, nil, true
		}
		return s.disk, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the token file %s: %w", s.path, err)
	}
	if s.loaded && s.seen != nil && sameFile(s.seen, fi) {
		return s.disk, nil
	}
	s.loaded = false
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the token file %s: %w", s.path, err)
	}
	defer f.Close()
	// The open file's own stat: it describes exactly the bytes read below,
	// even if the file is replaced meanwhile.
	if fi, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("cannot read the token file %s: %w", s.path, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxTokenFileSize {
		return nil, &FileError{Path: s.path, Reason: fmt.Sprintf("it is not a regular file of at most %d MiB", maxTokenFileSize>>20)}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the token file %s: %w", s.path, err)
	}
	if len(b) > maxTokenFileSize {
		return nil, &FileError{Path: s.path, Reason: fmt.Sprintf("it is larger than %d MiB", maxTokenFileSize>>20)}
	}
	m, err := s.codec.decode(b)
	if err != nil {
		return nil, err
	}
	s.decodes++
	for _, g := range m {
		escapeGrant(g)
	}
	s.disk, s.seen, s.loaded = m, fi, true
	return m, nil
}

// escapeGrant escapes what auth status and login print of a stored grant
// (the account, why a refresh token was dropped): a plaintext file or a
// keyring item is easily edited.
func escapeGrant(g *Grant) {
	if g != nil {
		g.Account = safetext.Line(g.Account, safetext.FieldMax)
		g.RefreshDropped = safetext.Line(g.RefreshDropped, safetext.MessageMax)
		g.RefreshPerResource = safetext.Line(g.RefreshPerResource, safetext.MessageMax)
	}
}

// sameFile reports whether b is the file a was: connform replaces the file
// by renaming a new one over it, which gives it a new inode and mtime. (An
// inode number freed by one write and reused by the next, with the same
// size within one mtime tick, would go unseen; two fsynced writes by
// another process between two of this one's reads, inside a few
// milliseconds, do not happen in practice.)
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// Flusher is a Store that defers some writes: Flush writes them. Commands
// call Flush (through auth.Flush) when they end.
type Flusher interface {
	Flush() error
}

// Flush writes what s deferred, when it defers anything.
func Flush(s Store) error {
	if f, ok := s.(Flusher); ok {
		return f.Flush()
	}
	return nil
}
