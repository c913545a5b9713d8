package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// syncFilesystems flushes the filesystem of each directory once (syncfs).
// ok is false when syncfs is not available, so the caller syncs file by
// file instead.
func syncFilesystems(dirs map[string]bool) (ok bool, err error) {
	done := map[uint64]bool{}
	for d := range dirs {
		f, err := os.Open(d)
		if err != nil {
			return false, fmt.Errorf("sync directory %s: %w", d, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err == nil && done[st.Dev] {
			f.Close()
			continue
		}
		err = unix.Syncfs(int(f.Fd()))
		f.Close()
		if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EINVAL) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("flush the filesystem of %s to disk: %w", d, err)
		}
		done[st.Dev] = true
	}
	return true, nil
}
