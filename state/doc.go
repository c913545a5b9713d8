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
//   - "<path>.lock.info": who holds the lock, for messages and force-unlock.
//
// Every file is replaced by rename from a synced temp file in the same
// directory, so a crash leaves the old file or the new one, never a torn one;
// Terraform's in-place truncation leaves an empty state instead. A file that
// cannot be read is reported and left alone, never repaired or overwritten.
package state
