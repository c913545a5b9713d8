package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
)

// TestDirSyncUnsupported: a filesystem that cannot sync a directory does
// not fail the write; any other failure does, however it is wrapped.
func TestDirSyncUnsupported(t *testing.T) {
	for _, tc := range []struct {
		err  error
		skip bool
	}{
		{syscall.EINVAL, true},
		{&fs.PathError{Op: "sync", Path: "/nfs/x", Err: syscall.ENOTSUP}, true},
		{fmt.Errorf("fuse: %w", errors.ErrUnsupported), true},
		{syscall.EIO, false},
		{&fs.PathError{Op: "sync", Path: "/x", Err: syscall.EROFS}, false},
		{errors.New("the disk went away"), false},
	} {
		if got := dirSyncUnsupported(tc.err); got != tc.skip {
			t.Errorf("dirSyncUnsupported(%v) = %v, want %v", tc.err, got, tc.skip)
		}
	}
}
