package state

// retryRemoveUnlocked is true: Windows refuses to delete a file while a
// handle to it is open, and the journal's LockFileEx lock holds one.
const retryRemoveUnlocked = true
