//go:build !windows

package state

// journalLockPath is the journal itself: flock(2) locks are advisory, so
// the journal can be written and read through other descriptors while
// locked, and no extra file is left beside the state.
func journalLockPath(journal string) string { return journal }

// retryRemoveUnlocked is false: POSIX systems remove a locked, open file at
// once, so a failure has another cause that a second try would not change.
const retryRemoveUnlocked = false
