package library

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"connform/addrs"
	"connform/internal/atomicfile"
)

// Status is an entry's state on disk compared with what connform wrote.
type Status string

// Statuses Check reports.
const (
	StatusOK       Status = "ok"
	StatusMissing  Status = "missing"
	StatusModified Status = "modified"
)

// FileName returns the entry file name for key, made safe by
// addrs.FileStem (which also tells config which keys would collide). An
// empty format means dsconn.
func FileName(key, format string) string {
	if format == "" {
		format = FormatDSConn
	}
	return addrs.FileStem(key) + "." + format
}

// Hash is the digest of an entry file's bytes that the state records.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Write encodes e and writes it to dir/FileName(e.Key, format) atomically:
// a reader sees the old file or the new one, never a partial one. It returns
// the path and the Hash of the bytes written.
func Write(dir, format string, e Entry) (path, hash string, err error) {
	data, err := Encode(e, format)
	if err != nil {
		return "", "", fmt.Errorf("library entry %q: %w", e.Key, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create the library folder: %w", err)
	}
	path = filepath.Join(dir, FileName(e.Key, format))
	if err := writeAtomic(path, data); err != nil {
		return "", "", fmt.Errorf("write library entry %s: %w; check that the folder is writable", path, err)
	}
	return path, Hash(data), nil
}

// writeAtomic writes an entry 0600: it may hold a client secret.
func writeAtomic(path string, data []byte) error {
	return atomicfile.Write(path, data, 0o600)
}

// Check compares the file at path with the hash recorded when connform wrote
// it, so that plan can show an entry deleted or edited by hand.
func Check(path, wantHash string) (Status, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return StatusMissing, nil
	}
	if err != nil {
		return "", fmt.Errorf("read library entry %s: %w", path, err)
	}
	if Hash(data) != wantHash {
		return StatusModified, nil
	}
	return StatusOK, nil
}

// Remove deletes an entry file; one that is already gone is not an error.
func Remove(path string) error {
	err := os.Remove(path)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("remove library entry %s: %w", path, err)
}

// Undo returns a function that puts the file at path back as it is now:
// its content, or its absence. Apply calls it when the state that would
// record a freshly written entry cannot be saved, so that the library and
// the state do not tell different stories.
func Undo(path string) (func() error, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return func() error { return Remove(path) }, nil
	case err != nil:
		return nil, fmt.Errorf("read library entry %s: %w", path, err)
	}
	return func() error {
		if err := writeAtomic(path, data); err != nil {
			return fmt.Errorf("restore library entry %s: %w", path, err)
		}
		return nil
	}, nil
}

// ReadDir reads every .dsconn and .json entry of dir, in file name order, and
// returns them with their paths (os.ReadDir sorts by name). An entry without a Key takes its file name
// stem. Hidden files and subfolders are skipped. A file that does not parse
// is an error naming the file.
func ReadDir(dir string) ([]Entry, []string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("read the library folder: %w", err)
	}
	var entries []Entry
	var paths []string
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		ext := filepath.Ext(name)
		format := strings.ToLower(strings.TrimPrefix(ext, "."))
		if format != FormatDSConn && format != FormatJSON {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("read library entry %s: %w", path, err)
		}
		e, err := Decode(data, format)
		if err != nil {
			return nil, nil, fmt.Errorf("library entry %s: %w; fix or move the file", path, err)
		}
		if e.Key == "" {
			e.Key = strings.TrimSuffix(name, ext)
		}
		entries = append(entries, e)
		paths = append(paths, path)
	}
	return entries, paths, nil
}
