package library

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

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

// File is an entry rendered for writing: where it goes, its bytes and
// their Hash. Rendering first lets a caller record its intent (the path
// and hash) before anything is on disk.
type File struct {
	Path string
	Data []byte
	Hash string
}

// Render encodes e for dir/FileName(e.Key, format).
func Render(dir, format string, e Entry) (File, error) {
	data, err := Encode(e, format)
	if err != nil {
		return File{}, fmt.Errorf("library entry %q: %w", e.Key, err)
	}
	return File{Path: filepath.Join(dir, FileName(e.Key, format)), Data: data, Hash: Hash(data)}, nil
}

// Write writes f atomically (a reader sees the old file or the new one,
// never a partial one), creating its folder 0700 if needed.
func (f File) Write() error {
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("create the library folder: %w", err)
	}
	if err := writeAtomic(f.Path, f.Data); err != nil {
		return fmt.Errorf("write library entry %s: %w; check that the folder is writable", f.Path, err)
	}
	return nil
}

// WriteUnsynced writes f atomically for readers but leaves it to the
// caller to make it durable (atomicfile.SyncFiles), so that many entries
// share one sync.
func (f File) WriteUnsynced() error {
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("create the library folder: %w", err)
	}
	if err := atomicfile.WriteUnsynced(f.Path, f.Data, 0o600); err != nil {
		return fmt.Errorf("write library entry %s: %w; check that the folder is writable", f.Path, err)
	}
	return nil
}

// Write encodes e and writes it to dir/FileName(e.Key, format) atomically.
// It returns the path and the Hash of the bytes written.
func Write(dir, format string, e Entry) (path, hash string, err error) {
	f, err := Render(dir, format, e)
	if err != nil {
		return "", "", err
	}
	if err := f.Write(); err != nil {
		return "", "", err
	}
	return f.Path, f.Hash, nil
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
		return "", readError(path, err)
	}
	if Hash(data) != wantHash {
		return StatusModified, nil
	}
	return StatusOK, nil
}

// KeptError says a file connform would have removed or put back was left
// in place, and why: connform touches only a file it can prove it wrote.
type KeptError struct {
	Path   string
	Reason string
}

func (e *KeptError) Error() string { return "left in place: " + e.Path + ": " + e.Reason }

// Owned reports whether path is a library entry connform may remove: a
// plain file directly inside the library folder dir whose content still
// hashes to hash (what connform recorded when it wrote it). Anything else
// is a *KeptError saying why not; a file that is already gone is
// fs.ErrNotExist. The path comes from the state file, which anyone can
// edit, so nothing in it is trusted.
func Owned(dir, path, hash string) error {
	kept := func(reason string) error { return &KeptError{Path: path, Reason: reason} }
	switch {
	case path == "":
		return kept("no path recorded")
	// connform records clean paths; a library folder may itself lie
	// above the working directory ("../shared"), so ".." is refused only
	// where it does not belong.
	case path != filepath.Clean(path) && slices.Contains(strings.Split(filepath.ToSlash(path), "/"), ".."):
		return kept(`the path contains ".."`)
	case path != filepath.Clean(path):
		return kept("not a path as connform writes it (" + filepath.Clean(path) + ")")
	case filepath.IsAbs(path) && !filepath.IsAbs(dir):
		return kept("an absolute path, outside the library folder " + dir)
	case filepath.Dir(filepath.Clean(path)) != filepath.Clean(dir):
		return kept("outside the library folder " + dir)
	case hash == "":
		return kept("no content hash recorded, so connform cannot tell it wrote it")
	}
	fi, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return kept(err.Error())
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return kept("a symbolic link, not the file connform wrote")
	case !fi.Mode().IsRegular():
		return kept("not a regular file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return kept(err.Error())
	}
	if Hash(data) != hash {
		return kept("its content is not what connform wrote (edited, or written by another run)")
	}
	return nil
}

// RemoveOwned removes path when Owned allows it. It returns whether it
// removed the file; a *KeptError when it left it in place; nil and false
// when it was already gone.
func RemoveOwned(dir, path, hash string) (bool, error) {
	switch err := Owned(dir, path, hash); {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	}
	err := os.Remove(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("remove library entry %s: %w", path, err)
}

// Undo returns a function that puts the file at path back as it is now
// (its content, or its absence), for apply to call when the state that
// would record a freshly written entry cannot be saved. The function takes
// the hash of what the run wrote and touches the file only while it still
// holds exactly that: another run (with -lock=false) may have written and
// recorded it since, and its entry must stay. Otherwise it returns a
// *KeptError.
func Undo(path string) (func(wrote string) error, error) {
	prior, err := os.ReadFile(path)
	existed := true
	switch {
	case errors.Is(err, fs.ErrNotExist):
		existed = false
	case err != nil:
		return nil, readError(path, err)
	}
	return func(wrote string) error {
		now, err := os.ReadFile(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if !existed {
				return nil
			}
			return &KeptError{Path: path, Reason: "it was removed since this run wrote it"}
		case err != nil:
			return fmt.Errorf("restore library entry %s: %w", path, err)
		case Hash(now) != wrote:
			return &KeptError{Path: path, Reason: "it changed since this run wrote it (another run wrote it?)"}
		}
		if !existed {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove library entry %s: %w", path, err)
			}
			return nil
		}
		if err := writeAtomic(path, prior); err != nil {
			return fmt.Errorf("restore library entry %s: %w", path, err)
		}
		return nil
	}, nil
}

// RemoveTemps removes the hidden temporary files that entry writes left in
// dir when their process was killed. Call it holding the state lock.
func RemoveTemps(dir string) ([]string, error) {
	return atomicfile.RemoveTemps(dir, func(target string) bool {
		ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(target), "."))
		return ext == FormatDSConn || ext == FormatJSON
	})
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
			return nil, nil, readError(path, err)
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

// readError words a failure to read a library entry. Not a directory means
// a file stands where the library folder (or one above it) should be, which
// the bare system error would not tell the user.
func readError(path string, err error) error {
	if errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("read library entry %s: %s, or a folder above it, is a file: move that file away so that connform can keep the library there", path, filepath.Dir(path))
	}
	return fmt.Errorf("read library entry %s: %w", path, err)
}
