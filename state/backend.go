package state

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"connform/internal/atomicfile"
)

// DefaultWorkspace is the workspace every backend has.
const DefaultWorkspace = "default"

// The capabilities of a state backend, in the spirit of Terraform's
// statemgr: each is small, so a caller asks only for what it uses and a
// backend that cannot do one thing (a read-only mirror, say) still serves
// the rest. Backend is all of them; backendtest.Run checks that a backend
// keeps the contract each one states.

// Reader reads the current state: (nil, nil) when there is none yet. The
// reader remembers what it saw, so a later Write can tell whether someone
// else wrote meanwhile.
type Reader interface {
	Read() (*State, error)
}

// Writer persists a state. It never overwrites a state it did not read
// (another lineage, a newer serial, or the same serial with other
// content): it returns a *ConflictError then, keeps the other state as it
// is, and saves the one it was given elsewhere (ConflictError.Kept).
type Writer interface {
	Write(*State) error
}

// Locker takes the exclusive lock a writing run holds, waiting up to
// timeout (0: try once) and returning a *LockedError that names the holder
// when it cannot. unlock releases it; a second call does nothing.
type Locker interface {
	Lock(ctx context.Context, info LockInfo, timeout time.Duration) (unlock func() error, err error)
}

// ForceUnlocker removes a lock whose holder is gone, given its ID.
// CheckForceUnlock says, changing nothing, why ForceUnlock would refuse.
type ForceUnlocker interface {
	CheckForceUnlock(id string) error
	ForceUnlock(id string) error
}

// Workspacer lists the backend's workspaces; DefaultWorkspace is always
// among them.
type Workspacer interface {
	Workspaces() ([]string, error)
}

// Journaler records a run's work one change at a time in O(1), folded into
// the state once at the end. Recover folds what a run that died left
// behind; call it under the lock, before Read.
type Journaler interface {
	OpenJournal(st *State) (Journal, error)
	Recover() (int, error)
}

// Journal is one run's durable record of its work.
//
// Record returns once its entries survive a crash (a crash during the call
// may keep a prefix of them). A run records, in this order: an
// OpWriting before it writes a library file, an OpPut once the connection
// is done (or OpRemove once it is gone), OpOrphan for a file no connection
// records any more and OpGone once such a file is removed. Commit turns
// every announced, unrecorded write into an orphan of st, writes st (as
// Writer.Write) and ends the journal; if st could not be written, the
// journal stays for the next run's Recover. Close ends it without folding.
type Journal interface {
	Record(entries ...Entry) error
	Commit(st *State) error
	Close() error
}

// Backend is every capability a state backend offers.
type Backend interface {
	Reader
	Writer
	Locker
	ForceUnlocker
	Workspacer
	Journaler
}

var _ Backend = (*Local)(nil)

// RemoveTemps removes temporary files that writes of this backend's files
// (state, backup, lock information, journal folding) left when their
// process was killed. Call it holding the lock.
func (l *Local) RemoveTemps() ([]string, error) {
	base := filepath.Base(l.path)
	return atomicfile.RemoveTemps(filepath.Dir(l.path), func(target string) bool {
		return target == base || strings.HasPrefix(target, base+".")
	})
}
