package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/google/uuid"
)

// LockInfo describes who holds the state lock; it is written next to the
// lock so that a waiting run can say whom it is waiting for.
type LockInfo struct {
	ID        string    `json:"id"`        // uuid
	Operation string    `json:"operation"` // "plan", "apply", "destroy"...
	Who       string    `json:"who"`       // user@host
	Version   string    `json:"version"`   // connform version
	Created   time.Time `json:"created"`
	Path      string    `json:"path"` // the state file the lock guards
	PID       int       `json:"pid"`
}

// NewLockInfo fills ID, Who, Created and PID for an operation. Path is the
// state file's, which only the backend knows: Lock fills it in.
func NewLockInfo(operation, version string) LockInfo {
	return LockInfo{
		ID:        uuid.NewString(),
		Operation: operation,
		Who:       whoAmI(),
		Version:   version,
		Created:   time.Now().UTC().Truncate(time.Second),
		PID:       os.Getpid(),
	}
}

func whoAmI() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return name + "@" + host
}

// LockedError says the state is locked by someone else and how to proceed.
type LockedError struct {
	Path string   // the state file
	Info LockInfo // the holder, as far as its lock-info file tells
	// Waited is how long -lock-timeout waited in vain; 0 when it was not set.
	Waited time.Duration
}

func (e *LockedError) Error() string {
	i := e.Info
	wait := "retry with -lock-timeout=DURATION to wait for it"
	if e.Waited > 0 {
		wait = fmt.Sprintf("it was still locked after waiting %s (-lock-timeout)", e.Waited)
	}
	if i.ID == "" {
		// The holder has taken the OS lock but not yet written its info,
		// or it was killed in between.
		return fmt.Sprintf("state file %s is locked by another connform process (its lock information in %s.lock.info is missing). Wait for it to finish and retry; %s.",
			e.Path, e.Path, wait)
	}
	return fmt.Sprintf("state file %s is locked by %s (operation %q, pid %d, connform %s) since %s; lock ID %s. Wait for it to finish; %s; if that process is gone, run `connform force-unlock %s`.",
		e.Path, i.Who, i.Operation, i.PID, i.Version, i.Created.Format(time.RFC3339), i.ID, wait, i.ID)
}

func (l *Local) lockPath() string     { return l.path + ".lock" }
func (l *Local) lockInfoPath() string { return l.path + ".lock.info" }

// Lock backoff: frequent enough that a short wait feels instant, capped so a
// long -lock-timeout does not spin.
const (
	lockFirstDelay = 100 * time.Millisecond
	lockMaxDelay   = 2 * time.Second
)

// Lock takes an exclusive OS file lock on "<path>.lock" and records info in
// "<path>.lock.info". The OS lock (flock) dies with its process, so a crashed
// run never leaves the state locked for good. While the lock is held by
// another process (or another Lock call in this one), Lock retries with
// backoff until timeout (0 means try once) or ctx is done, then returns a
// *LockedError naming the holder. unlock removes the info file and releases
// the lock; calling it again does nothing.
func (l *Local) Lock(ctx context.Context, info LockInfo, timeout time.Duration) (unlock func() error, err error) {
	if info.Path == "" {
		info.Path = l.absPath()
	}
	fl := flock.New(l.lockPath())
	var deadline time.Time
	delay := lockFirstDelay
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, fmt.Errorf("lock state file %s: %w (check that %s is writable)", l.path, err, filepath.Dir(l.lockPath()))
		}
		if ok {
			break
		}
		// The wait starts at the first refusal, so a slow start of the
		// process does not eat into -lock-timeout.
		if deadline.IsZero() {
			deadline = time.Now().Add(timeout)
		}
		remaining := time.Until(deadline)
		if timeout <= 0 || remaining <= 0 || ctx.Err() != nil {
			e := l.lockedError()
			if timeout > 0 && ctx.Err() == nil {
				e.Waited = timeout
			}
			return nil, e
		}
		if l.lockRetry != nil {
			l.lockRetry()
		}
		t := time.NewTimer(min(delay, remaining))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, l.lockedError()
		case <-t.C:
		}
		delay = min(delay*2, lockMaxDelay)
	}

	data, err := json.MarshalIndent(info, "", "  ")
	if err == nil {
		err = writeFileAtomic(l.lockInfoPath(), append(data, '\n'), nil)
	}
	if err != nil {
		fl.Unlock()
		return nil, fmt.Errorf("lock state file %s: record the lock information: %w", l.path, err)
	}

	var once sync.Once
	var unlockErr error
	return func() error {
		once.Do(func() {
			// Remove the info while still holding the lock, so it never
			// deletes the info of the next holder.
			if err := os.Remove(l.lockInfoPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
				unlockErr = fmt.Errorf("unlock state file %s: remove %s: %w", l.path, l.lockInfoPath(), err)
			}
			if err := fl.Unlock(); err != nil {
				unlockErr = errors.Join(unlockErr, fmt.Errorf("unlock state file %s: %w", l.path, err))
			}
		})
		return unlockErr
	}, nil
}

func (l *Local) absPath() string {
	if p, err := filepath.Abs(l.path); err == nil {
		return p
	}
	return l.path
}

func (l *Local) lockedError() *LockedError {
	e := &LockedError{Path: l.path}
	if info, err := l.readLockInfo(); err == nil {
		e.Info = *info
	}
	return e
}

func (l *Local) readLockInfo() (*LockInfo, error) {
	data, err := os.ReadFile(l.lockInfoPath())
	if err != nil {
		return nil, err
	}
	var info LockInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("%s is not valid lock information: %w", l.lockInfoPath(), err)
	}
	return &info, nil
}

// CheckForceUnlock reports, without changing anything, why ForceUnlock(id)
// would refuse: no lock, or a lock with another ID.
func (l *Local) CheckForceUnlock(id string) error {
	_, err := l.lockFor(id)
	return err
}

func (l *Local) lockFor(id string) (*LockInfo, error) {
	info, err := l.readLockInfo()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("force-unlock: state file %s is not locked (no %s); nothing to do", l.path, l.lockInfoPath())
	}
	if err != nil {
		return nil, fmt.Errorf("force-unlock: %w; remove that file by hand if no connform process is running", err)
	}
	if info.ID != id {
		return nil, fmt.Errorf("force-unlock: lock ID %q does not match the lock on %s, which is %s (held by %s for %q since %s); run `connform force-unlock %s` if that is the one you mean",
			id, l.path, info.ID, info.Who, info.Operation, info.Created.Format(time.RFC3339), info.ID)
	}
	return info, nil
}

// ForceUnlock removes the lock information left by a run that is gone, when
// id matches it. It cannot break the OS lock of a live process, and says so:
// stopping that process is the only safe way.
func (l *Local) ForceUnlock(id string) error {
	info, err := l.lockFor(id)
	if err != nil {
		return err
	}
	// Taking the OS lock proves the holder is gone, and keeps a new run from
	// starting while the info is removed.
	fl := flock.New(l.lockPath())
	ok, err := fl.TryLock()
	if err != nil {
		return fmt.Errorf("force-unlock: lock %s: %w", l.lockPath(), err)
	}
	if !ok {
		return fmt.Errorf("force-unlock: the lock on %s is held by a running process (pid %d, %s, operation %q); stop it instead", l.path, info.PID, info.Who, info.Operation)
	}
	defer fl.Unlock()
	if err := os.Remove(l.lockInfoPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("force-unlock: remove %s: %w", l.lockInfoPath(), err)
	}
	return nil
}
