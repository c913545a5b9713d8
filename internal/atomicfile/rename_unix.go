//go:build !windows

package atomicfile

import "os"

// renameFile is rename(2): it replaces a file others have open, so there is
// nothing to wait for.
func renameFile(from, to string) error { return os.Rename(from, to) }
