//go:build !windows

package auth

import "os"

// checkTokenDir applies tokenDirModeError to dir's mode bits.
func checkTokenDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		// MkdirAll just made it; the write that follows reports why not.
		return nil
	}
	return tokenDirModeError(dir, fi.Mode())
}
