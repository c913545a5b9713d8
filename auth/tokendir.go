package auth

import (
	"fmt"
	"io/fs"
)

// tokenDirModeError is the rule for a token folder that already exists,
// on systems with POSIX mode bits: one that others can write is refused. A
// folder connform creates is private, but one that exists may be shared
// (CONNFORM_HOME=/tmp): changing its mode would break it for the others,
// and writing tokens into it would let them swap the file. The sticky bit
// does not help: it stops others from removing our file, not from placing
// theirs first.
func tokenDirModeError(dir string, mode fs.FileMode) error {
	if mode.Perm()&0o022 == 0 {
		return nil
	}
	return fmt.Errorf("the token folder %s can be written by other users (mode %v), who could replace the token file; set CONNFORM_HOME to a folder of your own (connform creates it private)", dir, mode.Perm())
}
