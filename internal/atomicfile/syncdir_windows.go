package atomicfile

// syncDir does nothing: Windows cannot open a directory for syncing. The
// rename (MoveFileEx) is atomic, and NTFS records it in its metadata
// journal; unlike a synced directory on Unix, that journal may reach the
// disk a moment later, so a power loss right after a write can still bring
// back the old content (never a mix). docs/platforms.md says so.
func syncDir(string) error { return nil }
