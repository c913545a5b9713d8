package state

// journalLockPath is a file beside the journal: LockFileEx locks are
// mandatory, and a locked range (flock locks the first byte) cannot be
// written or read through any other handle, even the same process's, so
// locking the journal itself would fail its first record and its
// recovery. The empty "<state>.journal.lock" stays, as "<state>.lock"
// does.
func journalLockPath(journal string) string { return journal + ".lock" }

// retryRemoveUnlocked is true: Windows refuses to delete a file while a
// handle to it is open (a virus scanner's, for instance); once the lock is
// released connform tries once more.
const retryRemoveUnlocked = true
