// Package state owns what connform remembers between runs: the state model,
// its versioned JSON file format (version, serial, lineage), and the local
// backend that reads, locks, backs up and atomically writes it.
//
// The state never holds a secret: sensitive inputs are kept only as salted
// fingerprints (Fingerprint), tokens live in the token store (package auth).
//
// The local backend keeps, next to the state file "<path>":
//
//   - "<path>.backup": the snapshot the latest writing run started from;
//   - "<path>.lock": the OS file lock (flock), released by the OS when its
//     process dies, so a crashed run never leaves the state locked;
//   - "<path>.lock.info": who holds the lock, for messages and force-unlock;
//   - "<path>.journal": while apply runs, its finished work, one checksummed
//     record per change (Journal), folded into the state at the end or, after
//     a crash, by the next run (Recover); locked with flock on Unix, through
//     "<path>.journal.lock" on Windows, where a locked file cannot be written
//     through another handle (journal_windows.go);
//   - "<path>.conflict-<time>": this run's state, when the file was replaced
//     by something that ignored the lock (never overwritten).
//
// Backend gathers the capabilities (read, write with conflict check, lock,
// force-unlock, workspaces, journal) as small interfaces; backendtest holds
// the conformance suite every backend passes.
//
// Every file is replaced by rename from a synced temp file in the same
// directory, so a crash leaves the old file or the new one, never a torn one;
// Terraform's in-place truncation leaves an empty state instead. A file that
// cannot be read is reported and left alone, never repaired or overwritten.
package state
