package atomicfile

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// renameFile is MoveFileEx, retried for up to two seconds while the target
// is held open by another process (renameRetrying).
func renameFile(from, to string) error {
	return renameRetrying(from, to, os.Rename, heldOpen, time.Sleep, 2*time.Second)
}

// heldOpen reports the errors MoveFileEx gives when another handle holds
// the target without FILE_SHARE_DELETE. Access denied is also what a real
// permission problem gives; that one fails after the two seconds.
func heldOpen(err error) bool {
	return errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION) || errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}
