//go:build !windows

package atomicfile

import (
	"fmt"
	"os"
)

// syncDir makes a rename in dir durable: on POSIX systems a rename is an
// entry of its directory, which is only safe once the directory is synced.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !dirSyncUnsupported(err) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
