package state

import "connform/internal/atomicfile"

// writeFileAtomic replaces path with data, mode 0600 (state, backups and
// lock info alike), so that a reader or a crash only ever sees the old file
// or the complete new one: Terraform's local backend truncates in place and
// a kill mid-write leaves an empty state. beforeRename, when set, lets tests
// fail the write at its most delicate point.
func writeFileAtomic(path string, data []byte, beforeRename func(tmp string) error) error {
	return atomicfile.WriteWithHook(path, data, 0o600, beforeRename)
}
