//go:build !windows

package state

// retryRemoveUnlocked is false: POSIX systems remove a locked, open file at
// once, so a failure has another cause that a second try would not change.
const retryRemoveUnlocked = false
