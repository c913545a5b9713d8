package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/crypto/scrypt"

	"connform/internal/atomicfile"
)

// FileStore keeps all grants in one file, encrypted with AES-256-GCM under a
// key derived with scrypt from a passphrase. It is the store for machines
// without an OS keyring (servers, CI, containers).
type FileStore struct {
	grantFile
	passphrase []byte
	// The key of the file, cached with what it was derived from: scrypt is
	// slow on purpose. Guarded by grantFile's mutex.
	salt    []byte
	n, r, p int
	key     []byte
}

// fileFormat is the file on disk. The KDF parameters are kept so a later
// connform can raise them and still read older files.
type fileFormat struct {
	Version    int    `json:"version"`
	KDF        string `json:"kdf"`
	N          int    `json:"n"`
	R          int    `json:"r"`
	P          int    `json:"p"`
	Salt       []byte `json:"salt"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

const fileVersion = 1

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

// ErrWrongPassphrase is returned (wrapped) when the token file cannot be
// decrypted: the passphrase or key is not the one it was written with.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// NewFileStore opens the token file at path, which need not exist yet. When
// it exists it is decrypted at once, so a wrong passphrase fails here.
func NewFileStore(path string, passphrase []byte) (*FileStore, error) {
	if path == "" {
		return nil, errors.New("token file: no path given")
	}
	if len(passphrase) == 0 {
		return nil, errors.New("token file: the passphrase is empty; set CONNFORM_TOKEN_PASSPHRASE")
	}
	s := &FileStore{passphrase: bytes.Clone(passphrase)}
	s.grantFile = newGrantFile(path, s)
	if _, err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// decode decrypts the file's contents.
func (s *FileStore) decode(b []byte) (map[string]*Grant, error) {
	var f fileFormat
	if err := json.Unmarshal(b, &f); err != nil || f.Version == 0 {
		return nil, fmt.Errorf("the token file %s is damaged or not a connform token file; delete it and sign in again", s.path)
	}
	if f.Version != fileVersion || f.KDF != "scrypt" {
		return nil, fmt.Errorf("the token file %s has version %d (%s), which this connform cannot read; upgrade connform", s.path, f.Version, f.KDF)
	}
	key, err := s.deriveKey(f.Salt, f.N, f.R, f.P)
	if err != nil {
		return nil, err
	}
	plain, err := open(key, f.Nonce, f.Ciphertext)
	if err != nil {
		return nil, fmt.Errorf("cannot decrypt the token file %s: %w: is CONNFORM_TOKEN_PASSPHRASE the one it was written with? (Delete the file to start afresh and sign in again.)", s.path, ErrWrongPassphrase)
	}
	m := map[string]*Grant{}
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, fmt.Errorf("the token file %s decrypts but holds no tokens connform can read; delete it and sign in again", s.path)
	}
	return m, nil
}

func (s *FileStore) deriveKey(salt []byte, n, r, p int) ([]byte, error) {
	if s.key != nil && bytes.Equal(salt, s.salt) && n == s.n && r == s.r && p == s.p {
		return s.key, nil
	}
	key, err := scrypt.Key(s.passphrase, salt, n, r, p, 32)
	if err != nil {
		return nil, fmt.Errorf("the token file %s has invalid key parameters: %w", s.path, err)
	}
	s.salt, s.n, s.r, s.p, s.key = bytes.Clone(salt), n, r, p, key
	return key, nil
}

// encode encrypts m with a fresh nonce.
func (s *FileStore) encode(m map[string]*Grant) ([]byte, error) {
	plain, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the tokens: %w", err)
	}
	// The key of the file just read is reused; a new file gets a new salt.
	if s.key == nil {
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("cannot generate a salt: %w", err)
		}
		if _, err := s.deriveKey(salt, scryptN, 8, 1); err != nil {
			return nil, err
		}
	}
	key := s.key
	f := fileFormat{Version: fileVersion, KDF: "scrypt", N: s.n, R: s.r, P: s.p, Salt: s.salt}
	f.Nonce = make([]byte, 12)
	if _, err := rand.Read(f.Nonce); err != nil {
		return nil, fmt.Errorf("cannot generate a nonce: %w", err)
	}
	gcm, err := newGCM(key)
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
