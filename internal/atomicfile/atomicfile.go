// Package atomicfile owns replacing a file on disk so that a reader, or a
// crash or power loss at any moment, sees either the old content or the
// complete new content, never a truncated mix. Every file connform writes
// (state, lock info, tokens, library entries, plans, formatted
// configuration) goes through it, so they all get the same durability.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Write replaces path with data, mode perm.
//
// The data goes to a hidden temporary file in path's directory (hidden so
// that a listing such as library.ReadDir never takes a leftover for an
// entry; same directory so the rename stays on one filesystem and is
// atomic), which is synced and renamed over path; then the directory is
// synced so the rename itself survives a power loss. On any failure before
// the rename the temporary file is removed and path is left as it was.
//
// Errors name path and say which step failed.
func Write(path string, data []byte, perm fs.FileMode) error {
	return WriteWithHook(path, data, perm, nil)
}

// WriteWithHook is Write with beforeRename, when not nil, called with the
// complete, synced and closed temporary file just before it replaces path:
// an error from it aborts the write there. It lets tests fail a write at its
// most delicate moment, where a crash would hit.
func WriteWithHook(path string, data []byte, perm fs.FileMode, beforeRename func(tmp string) error) error {
	if err := replace(path, data, perm, true, beforeRename); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("write %s: %w: %w", path, ErrNotDurable, err)
	}
	return nil
}

// replace writes data to a temporary file beside path, with mode perm,
// synced when sync is set, and renames it over path.
func replace(path string, data []byte, perm fs.FileMode, sync bool, beforeRename func(tmp string) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: create a temporary file in %s: %w (check that the directory exists and is writable)", path, dir, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	// Before any byte is written, so that a secret never sits in a file
	// that others may read, even for a moment. Chmod is not subject to the
	// umask, so the mode is exactly perm.
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: set mode %04o on %s: %w", path, perm, tmpName, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: write %s: %w (is the disk full?)", path, tmpName, err)
	}
	if sync {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("write %s: flush %s to disk: %w", path, tmpName, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: close %s: %w", path, tmpName, err)
	}
	if beforeRename != nil {
		if err := beforeRename(tmpName); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := renameFile(tmpName, path); err != nil {
		return fmt.Errorf("write %s: replace it with %s: %w", path, tmpName, err)
	}
	return nil
}

// ErrNotDurable is returned (wrapped) when the new content replaced the old
// but the directory could not be synced: a power loss may still undo it.
// Callers must not tell the user the old file was left as it was.
var ErrNotDurable = errors.New("the new content is in place, but a power loss may undo it")

// dirSyncUnsupported reports whether err, from syncing a directory, says
// the filesystem cannot do it at all. Some (certain network and FUSE ones)
// cannot; failing every write there would make connform unusable without
// making anything safer.
func dirSyncUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, errors.ErrUnsupported)
}

// WriteUnsynced replaces path with data, mode perm, atomically for readers
// (temp file and rename, as Write) but without syncing anything: a run
// that writes many files makes them durable together, with SyncFiles, one
// journal commit of the filesystem instead of two per file. Until then a
// power loss may lose the new content; a process crash cannot.
func WriteUnsynced(path string, data []byte, perm fs.FileMode) error {
	return replace(path, data, perm, false, nil)
}

// SyncFiles makes files written by WriteUnsynced durable, content and
// names. Where the system can flush a whole filesystem at once (Linux
// syncfs), it does that once per filesystem: one flush of the disk instead
// of two per file, which on a busy disk is the difference between seconds
// and a fraction of one for a thousand files. Elsewhere each file is
// synced, then each of their directories once. A file that is gone is
// skipped: whoever removed it made that the outcome.
func SyncFiles(paths []string) error {
	dirs := map[string]bool{}
	for _, p := range paths {
		dirs[filepath.Dir(p)] = true
	}
	if len(dirs) == 0 {
		return nil
	}
	if ok, err := syncFilesystems(dirs); ok || err != nil {
		return err
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			err = f.Sync()
			f.Close()
		}
		if err != nil {
			return fmt.Errorf("flush %s to disk: %w", p, err)
		}
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// SyncDir makes a rename, creation or removal in dir durable, as Write does
// after its rename.
func SyncDir(dir string) error { return syncDir(dir) }

// TempTarget returns the file a temporary file name of Write stands for
// (".NAME.tmp-DIGITS" → "NAME"), and false for any other name. Only names
// of exactly this shape are Write's, so a cleanup that removes them never
// touches a file connform did not create.
func TempTarget(name string) (string, bool) {
	if !strings.HasPrefix(name, ".") {
		return "", false
	}
	i := strings.LastIndex(name, ".tmp-")
	if i <= 1 {
		return "", false
	}
	digits := name[i+len(".tmp-"):]
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return "", false
	}
	return name[1:i], true
}

// RemoveTemps removes the temporary files Write left in dir when its
// process was killed mid-write, for targets that keep says are connform's
// (a state file's siblings, library entries). Only regular files are
// removed; it returns their paths. Call it only while no other writer can
// be at work in dir (under the state lock).
func RemoveTemps(dir string, keep func(target string) bool) ([]string, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for leftover temporary files in %s: %w", dir, err)
	}
	var removed []string
	var errs []error
	for _, de := range des {
		target, ok := TempTarget(de.Name())
		if !ok || !de.Type().IsRegular() || !keep(target) {
			continue
		}
		p := filepath.Join(dir, de.Name())
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove leftover temporary file %s: %w", p, err))
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}
