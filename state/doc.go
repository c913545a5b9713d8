// Package state owns what connform remembers between runs: the state model,
// its versioned JSON file format (version, serial, lineage), and the local
// backend that reads, locks, backs up and atomically writes it.
//
// The state never holds a secret: sensitive inputs are kept only as salted
// fingerprints, tokens live in the token store (package auth).
package state
