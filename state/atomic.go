package state

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// writeFileAtomic replaces path with data so that a reader (or a crash) only
// ever sees the old file or the complete new one, never a truncated mix:
// Terraform's local backend truncates in place and a kill mid-write leaves an
// empty state. The temp file lives in the same directory so the rename stays
// on one filesystem; the directory is synced so the rename itself survives a
// power loss. beforeRename, when set, lets tests fail the write at its most
// delicate point.
func writeFileAtomic(path string, data []byte, beforeRename func(tmp string) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// CreateTemp makes the file 0600, which is the mode we want for state,
	// backups and lock info alike.
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
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
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: set mode 0600 on %s: %w", path, tmpName, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: write %s: %w (is the disk full?)", path, tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: flush %s to disk: %w", path, tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: close %s: %w", path, tmpName, err)
	}
	if beforeRename != nil {
		if err := beforeRename(tmpName); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("write %s: replace it with %s: %w", path, tmpName, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot open a directory for
// syncing, and NTFS journals renames anyway.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
