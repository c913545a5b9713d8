package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/crypto/scrypt"

	"connform/internal/atomicfile"
)

// FileStore keeps all grants in one file, encrypted with AES-256-GCM. It is
// the store for machines without an OS keyring (servers, CI, containers).
// The file key comes from a passphrase through scrypt (slow on purpose:
// passphrases are guessable), or from a random key (the kernel keyring's)
// through HKDF, which costs microseconds: a random key needs no stretching,
// and every command opens the store.
type FileStore struct {
	grantFile
	secret []byte
	// random: secret is a random 32-byte key, not a passphrase.
	random bool
	// The key of the file, cached with what it was derived from. Guarded by
	// grantFile's mutex.
	kdf     string
	salt    []byte
	n, r, p int
	key     []byte
}

// fileFormat is the file on disk. The KDF and its parameters are kept so a
// later connform can change them and still read older files.
type fileFormat struct {
	Version    int    `json:"version"`
	KDF        string `json:"kdf"`
	N          int    `json:"n,omitempty"`
	R          int    `json:"r,omitempty"`
	P          int    `json:"p,omitempty"`
	Salt       []byte `json:"salt"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// File format versions: 1 knows scrypt only; 2 adds hkdf-sha256 for random
// keys. Version 1 files are still read, and rewritten as version 2.
const (
	fileVersion = 2
	kdfScrypt   = "scrypt"
	kdfHKDF     = "hkdf-sha256"
)

// scryptN is the scrypt cost of new files (2^15, about 32 MiB and 0.1 s);
// tests lower it.
var scryptN = 1 << 15

// SetScryptCost sets the scrypt cost N (a power of two) of the token files
// this process creates from now on, and returns the previous cost; a file
// keeps the cost it was written with. Only tests call it: the default cost
// is paid by every connform run that opens the file, about 0.7 s under the
// race detector, which the command-line tests pay hundreds of times.
func SetScryptCost(n int) (previous int) {
	previous, scryptN = scryptN, n
	return previous
}

// Bounds of what a token file may ask for. The file is input like any
// other: its parameters decide how much memory and time opening it costs,
// so a damaged or planted file must not be able to ask for gigabytes or
// hours. The bounds leave ample room above what connform writes (N 2^15,
// r 8, p 1: 32 MiB).
const (
	minScryptN    = 1 << 10
	maxScryptMem  = 256 << 20 // 128·N·r bytes
	maxScryptWork = 1 << 22   // N·r·p: 16 times connform's own cost
	maxScryptR    = 32
	maxScryptP    = 16
	minSaltLen    = 16
	maxSaltLen    = 64
	nonceLen      = 12
	gcmTagLen     = 16
)

// ErrWrongPassphrase is returned (wrapped) when the token file cannot be
// decrypted: the passphrase or key is not the one it was written with.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// NewFileStore opens the token file at path, encrypted under a passphrase;
// the file need not exist yet. When it exists it is decrypted at once, so a
// wrong passphrase or a damaged file fails here (as a *FileError).
func NewFileStore(path string, passphrase []byte) (*FileStore, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("token file: the passphrase is empty; set CONNFORM_TOKEN_PASSPHRASE")
	}
	return newFileStore(path, passphrase, false)
}

// NewKeyFileStore opens the token file at path, encrypted under key, 32
// random bytes (not a passphrase: it is not stretched).
func NewKeyFileStore(path string, key []byte) (*FileStore, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("token file: the key has %d bytes, not 32", len(key))
	}
	return newFileStore(path, key, true)
}

func newFileStore(path string, secret []byte, random bool) (*FileStore, error) {
	if path == "" {
		return nil, errors.New("token file: no path given")
	}
	s := &FileStore{secret: bytes.Clone(secret), random: random}
	s.grantFile = newGrantFile(path, s)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// decode checks every parameter of the file against the bounds above, then
// decrypts it. Nothing the file says is used before it is checked.
func (s *FileStore) decode(b []byte) (map[string]*Grant, error) {
	// Whether the file is connform's at all is asked only when it fails:
	// the answer costs a second parse of what may be megabytes.
	damaged := func(format string, args ...any) error {
		if !identify(b) {
			return &FileError{Path: s.path, Reason: "it is not JSON with the fields of an encrypted token file"}
		}
		return &FileError{Path: s.path, Reason: fmt.Sprintf(format, args...), Identified: true}
	}
	var f fileFormat
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, damaged("a field has a value of the wrong type or size")
	}
	if err := checkFormat(&f); err != nil {
		if f.Version > fileVersion && identify(b) {
			return nil, &FileError{Path: s.path, Reason: err.Error(), Newer: true, Identified: true}
		}
		return nil, damaged("%v", err)
	}
	if f.KDF == kdfHKDF && !s.random {
		// Written with the kernel keyring's key; a passphrase cannot open it.
		return nil, s.wrongKey(b)
	}
	key, err := s.deriveKey(f.KDF, f.Salt, f.N, f.R, f.P)
	if err != nil {
		return nil, damaged("%v", err)
	}
	plain, err := open(key, f.Nonce, f.Ciphertext)
	if err != nil {
		return nil, s.wrongKey(b)
	}
	m := map[string]*Grant{}
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, damaged("it decrypts, but not to tokens connform can read")
	}
	return m, nil
}

func (s *FileStore) wrongKey(b []byte) error {
	hint := "is CONNFORM_TOKEN_PASSPHRASE the one it was written with?"
	if s.random {
		hint = "the key in the kernel keyring is not the one it was written with"
	}
	return &FileError{Path: s.path, WrongKey: true, Hint: hint, Identified: identify(b)}
}

// checkFormat bounds every parameter of f, so that opening a file costs at
// most maxScryptMem of memory and maxScryptWork of scrypt's time.
func checkFormat(f *fileFormat) error {
	switch {
	case f.Version > fileVersion:
		return fmt.Errorf("has version %d (%s)", f.Version, f.KDF)
	case f.Version < 1:
		return fmt.Errorf("the version is %d", f.Version)
	case f.KDF == kdfScrypt:
		if err := checkScrypt(f.N, f.R, f.P); err != nil {
			return err
		}
	case f.KDF == kdfHKDF && f.Version >= 2:
		if f.N != 0 || f.R != 0 || f.P != 0 {
			return errors.New("hkdf-sha256 takes no n, r or p")
		}
	default:
		return fmt.Errorf("version %d has no key derivation %q", f.Version, f.KDF)
	}
	switch {
	case len(f.Salt) < minSaltLen || len(f.Salt) > maxSaltLen:
		return fmt.Errorf("the salt has %d bytes, not %d to %d", len(f.Salt), minSaltLen, maxSaltLen)
	case len(f.Nonce) != nonceLen:
		return fmt.Errorf("the nonce has %d bytes, not %d", len(f.Nonce), nonceLen)
	case len(f.Ciphertext) < gcmTagLen:
		return fmt.Errorf("the ciphertext has %d bytes, fewer than its %d-byte tag", len(f.Ciphertext), gcmTagLen)
	}
	return nil
}

func checkScrypt(n, r, p int) error {
	switch {
	case n < minScryptN || bits.OnesCount(uint(n)) != 1:
		return fmt.Errorf("scrypt n is %d, not a power of two of at least %d", n, minScryptN)
	case r < 1 || r > maxScryptR:
		return fmt.Errorf("scrypt r is %d, not 1 to %d", r, maxScryptR)
	case p < 1 || p > maxScryptP:
		return fmt.Errorf("scrypt p is %d, not 1 to %d", p, maxScryptP)
	// n ≤ maxScryptMem here (r ≥ 1), so the products below cannot overflow.
	case n > maxScryptMem/128/r:
		return fmt.Errorf("scrypt n=%d, r=%d would need more than the %d MiB of memory allowed", n, r, maxScryptMem>>20)
	case n*r*p > maxScryptWork:
		return fmt.Errorf("scrypt n=%d, r=%d, p=%d would take %d times connform's own cost", n, r, p, n*r*p/(1<<18))
	}
	return nil
}

func (s *FileStore) deriveKey(kdf string, salt []byte, n, r, p int) ([]byte, error) {
	if s.key != nil && kdf == s.kdf && bytes.Equal(salt, s.salt) && n == s.n && r == s.r && p == s.p {
		return s.key, nil
	}
	var key []byte
	var err error
	switch kdf {
	case kdfHKDF:
		key, err = hkdf.Key(sha256.New, s.secret, salt, "connform token file", 32)
	case kdfScrypt:
		if err := checkScrypt(n, r, p); err != nil {
			return nil, err
		}
		key, err = scrypt.Key(s.secret, salt, n, r, p, 32)
	default:
		err = fmt.Errorf("no key derivation %q", kdf)
	}
	if err != nil {
		return nil, err
	}
	s.kdf, s.salt, s.n, s.r, s.p, s.key = kdf, bytes.Clone(salt), n, r, p, key
	return key, nil
}

// encode encrypts m with a fresh nonce.
func (s *FileStore) encode(m map[string]*Grant) ([]byte, error) {
	plain, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the tokens: %w", err)
	}
	// The key of the file just read is reused, unless it was stretched from
	// a random key by an older connform: such a file is rewritten under
	// HKDF, so the next command opens it without scrypt's cost.
	want := kdfScrypt
	if s.random {
		want = kdfHKDF
	}
	if s.key == nil || s.kdf != want {
		salt := make([]byte, minSaltLen)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("cannot generate a salt: %w", err)
		}
		n, r, p := scryptN, 8, 1
		if want == kdfHKDF {
			n, r, p = 0, 0, 0
		}
		if _, err := s.deriveKey(want, salt, n, r, p); err != nil {
			return nil, err
		}
	}
	f := fileFormat{Version: fileVersion, KDF: s.kdf, N: s.n, R: s.r, P: s.p, Salt: s.salt}
	f.Nonce = make([]byte, nonceLen)
	if _, err := rand.Read(f.Nonce); err != nil {
		return nil, fmt.Errorf("cannot generate a nonce: %w", err)
	}
	gcm, err := newGCM(s.key)
	if err != nil {
		return nil, err
	}
	f.Ciphertext = gcm.Seal(nil, f.Nonce, plain, nil)
	return json.Marshal(f)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func open(key, nonce, ciphertext []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(nonce) != gcm.NonceSize() {
		return nil, errors.New("bad nonce")
	}
	return gcm.Open(nil, nonce, ciphertext, nil)
}

// writeFileAtomic writes b to path, mode 0600, so that a crash leaves
// either the old token file or the new one.
func writeFileAtomic(path string, b []byte) error {
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return fmt.Errorf("cannot write the token file %s: %w", path, err)
	}
	return nil
}
