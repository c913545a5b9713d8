package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// RecoveryCommand is what a user runs to get past a token file that cannot
// be read: it moves the file aside (keeping it) and logs every account out.
const RecoveryCommand = "connform logout -all"

// maxTokenFileSize bounds what connform reads as a token file. Thousands of
// accounts fit many times over; a larger file is not one connform wrote,
// and reading it whole would only cost memory.
const maxTokenFileSize = 128 << 20

// FileError is a token file that cannot be used: damaged, written by a
// newer connform, or encrypted with another key. It names the file and the
// recovery command, and never shows the file's content.
type FileError struct {
	Path string
	// Reason says what is wrong, in a few words ("the salt has 3 bytes").
	Reason string
	// WrongKey: the file is intact but the passphrase or key does not open
	// it. Hint then says which key was used.
	WrongKey bool
	Hint     string
	// Newer: the file's format is newer than this connform reads.
	Newer bool
	// Identified: the file is recognisably a connform token file, so
	// SetAside may move it; a file that is not is left alone.
	Identified bool
}

func (e *FileError) Error() string {
	switch {
	case e.WrongKey:
		return fmt.Sprintf("cannot decrypt the token file %s: %v: %s (%s moves it aside and logs every account out)", e.Path, ErrWrongPassphrase, e.Hint, RecoveryCommand)
	case e.Newer:
		return fmt.Sprintf("the token file %s %s, which this connform cannot read: upgrade connform, or run %s to move it aside and sign in again", e.Path, e.Reason, RecoveryCommand)
	case !e.Identified:
		return fmt.Sprintf("the token file %s is damaged or not connform's (%s), so connform leaves it alone: move it away yourself (or set CONNFORM_HOME to another folder) and sign in again", e.Path, e.Reason)
	}
	return fmt.Sprintf("the token file %s is damaged (%s): run %s to move it aside and sign in again", e.Path, e.Reason, RecoveryCommand)
}

// Is makes errors.Is(err, ErrWrongPassphrase) hold for a wrong key.
func (e *FileError) Is(target error) bool { return target == ErrWrongPassphrase && e.WrongKey }

// identify reports whether b looks like a token file connform wrote: a
// JSON object with the fields of the encrypted or the plaintext format. It
// decides nothing about whether the values make sense.
func identify(b []byte) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil {
		return false
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if _, ok := fields[n]; !ok {
				return false
			}
		}
		return true
	}
	return has("version", "kdf", "salt", "nonce", "ciphertext") || has("version", "encrypted", "grants")
}

// SetAside moves the token file at path, which connform cannot read, out of
// the way (to path.unreadable, or .unreadable.N when that exists: nothing
// is overwritten), and returns where it went. The file is kept, not
// deleted: with the right passphrase it may still open. Only a file that
// is recognisably a connform token file is moved.
func SetAside(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFileSize+1))
	f.Close()
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	if len(b) > maxTokenFileSize || !identify(b) {
		return "", fmt.Errorf("%s is not recognisably a connform token file, so connform leaves it in place: move it away yourself, or set CONNFORM_HOME to another folder", path)
	}
	for i := 0; i < 100; i++ {
		aside := path + ".unreadable"
		if i > 0 {
			aside += "." + strconv.Itoa(i)
		}
		// A hard link fails when the name is taken, where a rename would
		// replace it.
		err := os.Link(path, aside)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			// No hard links here (some filesystems): check, then rename.
			if _, serr := os.Lstat(aside); serr == nil {
				continue
			}
			if err := os.Rename(path, aside); err != nil {
				return "", err
			}
			return aside, nil
		}
		if err := os.Remove(path); err != nil {
			os.Remove(aside)
			return "", err
		}
		return aside, nil
	}
	return "", fmt.Errorf("%s: 100 files named %s.unreadable* exist already; remove those you do not need", path, path)
}
