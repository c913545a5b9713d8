package state

import (
	"bytes"
	"cmp"
	"connform/internal/words"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"connform/internal/atomicfile"
)

// Local is the state backend that keeps the state in one JSON file on the
// local disk, next to a lock ("<path>.lock", "<path>.lock.info") and one
// backup of the snapshot the current run started from ("<path>.backup").
//
// One Local value stands for one run: it remembers what it read and wrote so
// that it can detect a concurrent writer, and it makes the backup only once.
// Its methods are safe for concurrent use.
type Local struct {
	path string

	mu       sync.Mutex
	seen     *seenState // what this run last read or wrote; nil before that
	backedUp bool       // the backup was taken (or there was nothing to back up)

	// beforeRename lets tests fail a write between the temp file and the
	// rename, the moment a crash would hit.
	beforeRename func(tmp string) error
	// lockRetry is called after every failed lock attempt that will be
	// retried, so tests can release the holder while Lock is waiting.
	lockRetry func()
	// afterWrite lets tests turn a state write's outcome into another (a
	// directory sync that failed after the rename).
	afterWrite func(error) error
	// now stamps the name of a conflict copy; tests fix it.
	now func() time.Time

	// Notify, when set, receives what the backend did on its own that the
	// user should know: a leftover journal folded or shown.
	Notify func(msg string)
}

// seenState identifies the file this run last read or wrote: its lineage
// and serial, and a digest of its bytes, so that a file replaced by
// something that ignored the lock is noticed even when it carries the same
// serial (a copy of an older snapshot, a hand edit).
type seenState struct {
	lineage string
	serial  uint64
	digest  [sha256.Size]byte
}

// notify passes a message for the user to Notify, if set.
func (l *Local) notify(msg string) {
	if l.Notify != nil {
		l.Notify(msg)
	}
}

// NewLocal returns the local backend for the state file at path
// (conventionally "connform.state.json").
func NewLocal(path string) *Local { return &Local{path: path} }

// Path returns the state file's path as given to NewLocal.
func (l *Local) Path() string { return l.path }

func (l *Local) backupPath() string { return l.path + ".backup" }

// CorruptError reports a state file that cannot be used. connform never
// repairs or overwrites such a file by itself: the user decides.
type CorruptError struct {
	Path    string
	Problem string // what is wrong, in words
	// TooNew is set when the file was written by a newer connform whose
	// format this build does not know; the file is probably fine.
	TooNew bool
	// Backup is the path of the previous snapshot, or "" if there is none.
	Backup string
}

func (e *CorruptError) Error() string {
	if e.TooNew {
		return fmt.Sprintf("state file %s %s: upgrade connform to work with it. The file was left untouched.", e.Path, e.Problem)
	}
	msg := fmt.Sprintf("state file %s is not valid connform state: %s. The file was left untouched.", e.Path, e.Problem)
	if e.Backup != "" {
		return msg + fmt.Sprintf(" %s holds the previous snapshot: inspect it and copy it over %s to recover.", e.Backup, e.Path)
	}
	return msg + fmt.Sprintf(" There is no backup (%s.backup): restore the file from your own copy, or move it away to start from an empty state (connform will then create every connection again).", e.Path)
}

// ConflictError reports that the state file on disk is not the one this run
// started from, so writing would lose someone else's changes.
type ConflictError struct {
	Path string
	// DiskLineage and DiskSerial describe the file on disk; Lineage and
	// Serial the state this run tried to write.
	DiskLineage, Lineage string
	DiskSerial, Serial   uint64
	// Kept is where this run's state was saved instead ("<path>.conflict-
	// <time>"), so neither side's work is lost; "" if that failed too.
	Kept string
}

func (e *ConflictError) Error() string {
	var msg string
	switch {
	case e.DiskLineage != e.Lineage:
		msg = fmt.Sprintf("refusing to write state file %s: it holds a different state (lineage %s) than this run's (lineage %s), and was left as it is.",
			e.Path, e.DiskLineage, e.Lineage)
	case e.DiskSerial == e.Serial:
		msg = fmt.Sprintf("refusing to write state file %s: it was replaced by something that ignored the lock while this run was working (same serial %d, different content), and was left as it is.",
			e.Path, e.DiskSerial)
	default:
		msg = fmt.Sprintf("refusing to write state file %s: it was changed by someone else while this run was working (it is now at serial %d, this run started from serial %d), and was left as it is.",
			e.Path, e.DiskSerial, e.Serial)
	}
	if e.Kept != "" {
		return msg + fmt.Sprintf(" This run's state was saved to %s. Compare the two: keep the one that is right as %s (or merge the connections this run applied into it), remove the other, then run connform plan.", e.Kept, e.Path)
	}
	if e.DiskLineage != e.Lineage {
		return msg + " Nothing was written. If it is the wrong file, point connform at the right one; to replace it, move it away first and re-run."
	}
	return msg + " Nothing was written. Re-run the command to work from the current state."
}

// Read returns the current state, or (nil, nil) when the file does not
// exist. A file that is not valid state is a *CorruptError and is left
// untouched. Read records the lineage and serial it saw, so a later Write
// can tell whether someone else wrote the file meanwhile.
func (l *Local) Read() (*State, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	raw, s, err := l.load()
	if err != nil {
		return nil, err
	}
	if s != nil {
		l.seen = &seenState{lineage: s.Lineage, serial: s.Serial, digest: sha256.Sum256(raw)}
	}
	// A journal left by a run that died holds connections it finished:
	// show them (without writing anything; Recover folds them in).
	entries, ignored, err := l.leftover()
	if err != nil || len(entries) < 2 {
		return s, err
	}
	s, err = l.fold(s, entries)
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("%s holds the work of a run that did not finish (%s); it is included here, and the next apply folds it into %s.", l.journalPath(), describeEntries(entries), l.path)
	if ignored > 0 {
		msg += fmt.Sprintf(" An incomplete record at its end (%s) is ignored.", words.Count(int(ignored), "byte"))
	}
	l.notify(msg)
	return s, nil
}

// load reads and validates the file, returning its raw bytes too (for the
// backup). A missing file is (nil, nil, nil).
func (l *Local) load() ([]byte, *State, error) {
	raw, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		// The path is said once: os wraps the cause in a *PathError that
		// would repeat it.
		cause := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			cause = pe.Err
		}
		return nil, nil, fmt.Errorf("cannot read state file %s: %w. The file was left untouched: make it a readable file, or run connform where the right state file is", l.path, cause)
	}
	s, problem, tooNew := decode(raw)
	if problem != "" {
		e := &CorruptError{Path: l.path, Problem: problem, TooNew: tooNew}
		if _, err := os.Stat(l.backupPath()); err == nil {
			e.Backup = l.backupPath()
		}
		return nil, nil, e
	}
	return raw, s, nil
}

// decode parses a state file, returning what is wrong with it in words
// instead of an error, so CorruptError can phrase it for the user.
func decode(raw []byte) (s *State, problem string, tooNew bool) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, "the file is empty (a write was probably interrupted)", false
	}
	if bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")) {
		// encoding/json would call it an invalid character 'ï'.
		return nil, "it starts with a byte order mark (an editor saved it as \"UTF-8 with BOM\"); save it as UTF-8 without one", false
	}
	// One decode serves nearly every file (a state of 10,000 connections
	// is megabytes); only when it fails is the version read alone, since a
	// newer format may not fit State, and that is the thing to say.
	s = new(State)
	if err := json.Unmarshal(raw, s); err != nil {
		var head struct {
			Version *int `json:"version"`
		}
		if herr := json.Unmarshal(raw, &head); herr != nil {
			return nil, describeJSONError(herr), false
		}
		if problem, tooNew := checkVersion(head.Version); problem != "" {
			return nil, problem, tooNew
		}
		return nil, describeJSONError(err), false
	}
	if problem, tooNew := checkVersion(&s.Version); problem != "" {
		return nil, problem, tooNew
	}
	if s.Lineage == "" {
		return nil, "it has no \"lineage\"", false
	}
	for i, c := range s.Connections {
		if c == nil {
			return nil, fmt.Sprintf("connection %d is null", i), false
		}
	}
	sanitize(s)
	sortConnections(s.Connections)
	seen := make(map[string]bool, len(s.Connections))
	for _, c := range s.Connections {
		if seen[c.Addr] {
			return nil, fmt.Sprintf("connection %q appears more than once", c.Addr), false
		}
		seen[c.Addr] = true
	}
	if problem := checkAddresses(s.Connections); problem != "" {
		return nil, problem, false
	}
	return s, "", false
}

// checkVersion says what is wrong with a state file's format version, if
// anything, and whether it is newer than this build's; nil means none.
func checkVersion(v *int) (problem string, tooNew bool) {
	switch {
	case v == nil || *v == 0:
		return "it has no format \"version\"", false
	case *v > FormatVersion:
		return fmt.Sprintf("was written in format version %d, newer than this connform understands (%d)", *v, FormatVersion), true
	case *v < 0:
		return fmt.Sprintf("it has an impossible format version %d", *v), false
	}
	return "", false
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	// encoding/json has no sentinel for truncated input, only this text.
	case errors.As(err, &syn) && strings.Contains(syn.Error(), "unexpected end of JSON input"):
		return "the JSON ends too early (the file is truncated; a write was probably interrupted)"
	case errors.As(err, &syn):
		return fmt.Sprintf("it is not valid JSON (%v at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong type (%s where %s was expected)", typ.Field, typ.Value, typ.Type)
	}
	return "it is not valid JSON: " + err.Error()
}

// Write persists s atomically (temp file, fsync, rename, fsync of the
// directory; mode 0600), sorting s.Connections by Addr first.
//
// Serial: when the content (everything but the serial) differs from the
// file, s.Serial becomes one more than the newer of the file's serial and
// s's own; when nothing changed, nothing is written at all. Before the first
// real write of this Local, the file as it was is copied to <path>.backup.
//
// Write returns a *ConflictError, leaving the file untouched, when the file
// holds a different lineage, a serial newer than s.Serial, or a serial other
// than the one this Local last read or wrote: someone else wrote it.
func (l *Local) Write(s *State) error {
	if s == nil {
		return fmt.Errorf("write state file %s: no state given (a bug in connform)", l.path)
	}
	l.mu.Lock()
	defer l.mu.Unlock()

	if s.Lineage == "" {
		return fmt.Errorf("write state file %s: the state has no lineage (a bug in connform: create states with state.New)", l.path)
	}
	if s.Version == 0 {
		s.Version = FormatVersion
	}
	if s.Version > FormatVersion {
		return fmt.Errorf("write state file %s: the state is in format version %d, newer than this connform writes (%d): upgrade connform", l.path, s.Version, FormatVersion)
	}
	// A state read from an older format is written in this one: what it
	// holds may be more than the older format can carry (FormatVersion).
	s.Version = FormatVersion
	sortConnections(s.Connections)
	for i, c := range s.Connections {
		if c == nil {
			return fmt.Errorf("write state file %s: connection %d is nil (a bug in connform)", l.path, i)
		}
		if i > 0 && s.Connections[i-1].Addr == c.Addr {
			return fmt.Errorf("write state file %s: connection %q appears more than once (a bug in connform)", l.path, c.Addr)
		}
	}

	raw, disk, err := l.loadForWrite()
	if err != nil {
		return err
	}
	next := s.Serial + 1
	if disk != nil {
		conflict := disk.Lineage != s.Lineage || disk.Serial > s.Serial ||
			(l.seen != nil && l.seen.lineage == disk.Lineage && (l.seen.serial != disk.Serial || l.seen.digest != sha256.Sum256(raw)))
		if conflict {
			e := &ConflictError{Path: l.path, DiskLineage: disk.Lineage, Lineage: s.Lineage, DiskSerial: disk.Serial, Serial: s.Serial}
			e.Kept = l.keepConflict(s, next)
			return e
		}
		// Unchanged content encodes to the very bytes on disk (encode is
		// deterministic): one encode tells, without decoding the file.
		same := *s
		same.Serial = disk.Serial
		data, err := encode(&same)
		if err != nil {
			return fmt.Errorf("write state file %s: %w", l.path, err)
		}
		if bytes.Equal(data, raw) {
			s.Serial = disk.Serial
			l.seen = &seenState{lineage: s.Lineage, serial: s.Serial, digest: sha256.Sum256(raw)}
			return nil
		}
		// s.Serial >= disk.Serial here, so this also covers a file that was
		// restored from an older snapshot: serials never go backwards for s.
	}

	out := *s
	out.Serial = next
	data, err := encode(&out)
	if err != nil {
		return fmt.Errorf("write state file %s: %w", l.path, err)
	}
	if !l.backedUp {
		if raw != nil {
			if err := writeFileAtomic(l.backupPath(), raw, nil); err != nil {
				return fmt.Errorf("back up the state before changing it: %w; the state file was left untouched", err)
			}
		}
		// Later writes in this run must not overwrite the backup with the
		// run's own intermediate snapshots.
		l.backedUp = true
	}
	err = writeFileAtomic(l.path, data, l.beforeRename)
	if l.afterWrite != nil {
		err = l.afterWrite(err)
	}
	if err != nil && !errors.Is(err, atomicfile.ErrNotDurable) {
		return fmt.Errorf("%w; the previous state file was left untouched", err)
	}
	// The new state is in place (durably or not): the run goes on from it,
	// or its next write would look like someone else's change.
	s.Serial = next
	l.seen = &seenState{lineage: s.Lineage, serial: s.Serial, digest: sha256.Sum256(data)}
	return err
}

// keepConflict saves the state this run could not write beside the file
// it would have replaced, so that neither side's work is lost. It returns
// the copy's path, or "" when even that failed.
func (l *Local) keepConflict(s *State, serial uint64) string {
	out := *s
	out.Serial = serial
	data, err := encode(&out)
	if err != nil {
		return ""
	}
	now := time.Now
	if l.now != nil {
		now = l.now
	}
	path := fmt.Sprintf("%s.conflict-%s", l.path, now().UTC().Format("20060102T150405.000Z"))
	if err := writeFileAtomic(path, data, nil); err != nil && !errors.Is(err, atomicfile.ErrNotDurable) {
		return ""
	}
	return path
}

// Workspaces lists the workspaces the backend holds. The local backend has
// one state file, so one workspace.
func (l *Local) Workspaces() ([]string, error) { return []string{DefaultWorkspace}, nil }

// loadForWrite is load for Write's conflict check. When the file's bytes
// are the ones this Local last read or wrote, it takes their lineage and
// serial from memory instead of decoding the file again: at the end of a
// large apply that decode would be most of the write.
func (l *Local) loadForWrite() ([]byte, *State, error) {
	if l.seen == nil {
		return l.load()
	}
	raw, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read state file %s: %w", l.path, err)
	}
	if sha256.Sum256(raw) != l.seen.digest {
		return l.load()
	}
	return raw, &State{Lineage: l.seen.lineage, Serial: l.seen.serial}, nil
}

// encode renders the file format: indented JSON with a trailing newline so
// the file diffs and prints cleanly. A nil connection list is written as []
// so an empty state looks the same however it was built.
func encode(s *State) ([]byte, error) {
	if s.Connections == nil {
		c := *s
		c.Connections = []*Connection{}
		s = &c
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return append(data, '\n'), nil
}

func sortConnections(cs []*Connection) {
	slices.SortStableFunc(cs, func(a, b *Connection) int {
		if a == nil || b == nil {
			return 0 // reported as an error by the caller
		}
		return cmp.Compare(a.Addr, b.Addr)
	})
}
