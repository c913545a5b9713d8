package state

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"

	"connform/internal/atomicfile"
)

// Op names what one journal entry records.
type Op string

// Journal operations.
const (
	// OpBegin opens a journal: the lineage and serial of the state the
	// run started from, so a leftover journal is folded into its own state
	// only (or becomes that state, when the run created it).
	OpBegin Op = "begin"
	// OpPut records a connection as applied (Conn).
	OpPut Op = "put"
	// OpRemove records a connection as gone (Addr).
	OpRemove Op = "remove"
	// OpWriting records, before the write, that a library file (Path) is
	// about to be written with content hashing to Hash for Addr. Until an
	// OpPut records that path, the file is an orphan if the run dies.
	OpWriting Op = "writing"
	// OpOrphan records a library file no connection records any more.
	OpOrphan Op = "orphan"
	// OpGone records that a file (Path) is no longer connform's concern:
	// removed, or an intent that was undone.
	OpGone Op = "gone"
)

// Entry is one record of a run's journal. It holds no secret: only what the
// state itself holds.
type Entry struct {
	Op      Op          `json:"op"`
	Conn    *Connection `json:"connection,omitempty"`
	Addr    string      `json:"addr,omitempty"`
	Path    string      `json:"path,omitempty"`
	Hash    string      `json:"hash,omitempty"`
	Lineage string      `json:"lineage,omitempty"`
	Serial  uint64      `json:"serial,omitempty"`
	Version string      `json:"connform_version,omitempty"`
}

// Apply makes the change e records to s. Entries that only a journal
// tracks (begin, writing) change nothing here.
func (s *State) Apply(e Entry) {
	switch e.Op {
	case OpPut:
		if e.Conn != nil {
			s.Put(e.Conn)
		}
	case OpRemove:
		s.Remove(e.Addr)
	case OpOrphan:
		s.addOrphan(Orphan{Path: e.Path, Hash: e.Hash, Addr: e.Addr})
	case OpGone:
		s.dropOrphan(e.Path)
	}
}

// intents follows the library writes a journal announced and whether each
// was then recorded, so that a file written but never recorded becomes an
// orphan instead of being forgotten.
type intents map[string]Orphan

func (in intents) note(e Entry) {
	switch e.Op {
	case OpWriting:
		in[e.Path] = Orphan{Path: e.Path, Hash: e.Hash, Addr: e.Addr}
	case OpPut:
		if e.Conn != nil {
			delete(in, e.Conn.LibraryPath)
		}
	case OpGone:
		delete(in, e.Path)
	}
}

// settle turns every unrecorded write into an orphan of s. A path some
// connection records is not an orphan whatever its content: plan shows it
// as edited and apply writes it again.
func (in intents) settle(s *State) {
	for path, o := range in {
		if !s.Records(path) {
			s.addOrphan(o)
		}
	}
}

// Journal format: each record is a 4-byte big-endian length, a 4-byte
// CRC-32C of the payload, and the payload (one Entry as JSON). A record is
// self-delimiting, so a kill in the middle of an append leaves a torn last
// record that replay detects (short, or a checksum mismatch) and ignores:
// its connection was in flight, never reported as done.
const (
	recordHeader = 8
	// maxRecord bounds what replay reads for one record: a journal is a
	// file someone else could have written, and a connection's record is
	// a few kilobytes.
	maxRecord = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func frame(e Entry) ([]byte, error) {
	payload, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode journal record: %w", err)
	}
	if len(payload) > maxRecord {
		return nil, fmt.Errorf("journal record for %s is %d bytes, over the %d-byte limit", e.Addr, len(payload), maxRecord)
	}
	buf := make([]byte, recordHeader, recordHeader+len(payload))
	binary.BigEndian.PutUint32(buf[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[4:8], crc32.Checksum(payload, crcTable))
	return append(buf, payload...), nil
}

// readJournal returns the intact records of a journal, and how many bytes
// at its end were torn or damaged and so ignored.
func readJournal(r io.Reader) (entries []Entry, ignored int64, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var head [recordHeader]byte
	for {
		n, err := io.ReadFull(br, head[:])
		if err == io.EOF {
			return entries, 0, nil
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return entries, int64(n), nil
			}
			return nil, 0, err
		}
		size := binary.BigEndian.Uint32(head[0:4])
		if size > maxRecord {
			rest, _ := io.Copy(io.Discard, br)
			return entries, recordHeader + rest, nil
		}
		payload := make([]byte, size)
		m, err := io.ReadFull(br, payload)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || err == io.EOF {
				return entries, int64(recordHeader + m), nil
			}
			return nil, 0, err
		}
		var e Entry
		if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(head[4:8]) || json.Unmarshal(payload, &e) != nil {
			rest, _ := io.Copy(io.Discard, br)
			return entries, int64(recordHeader) + int64(size) + rest, nil
		}
		entries = append(entries, e)
	}
}

// FileJournal is a run's append-only record of finished work, beside the state
// ("<state>.journal", 0600). Record makes one entry durable in O(1) instead
// of rewriting the whole state; Commit folds the run into the state once at
// the end and removes the journal. A run that dies leaves the journal, and
// the next run that takes the lock folds it in first (Local.Recover).
//
// Its methods are safe for concurrent use. Concurrent Records share one
// fsync (group commit): while one goroutine syncs, the others' records
// gather, and the next sync covers them all.
type FileJournal struct {
	l    *Local
	path string
	f    *os.File
	fl   *flock.Flock

	mu       sync.Mutex
	cond     *sync.Cond
	buf      []byte // framed records not yet written
	appended uint64 // sequence number of the latest record handed to Record
	synced   uint64 // every record up to this one is durable
	syncing  bool   // a goroutine is writing and syncing
	err      error  // the first failure: the journal takes no more records
	intents  intents
	records  int
	// syncs counts fsyncs, for tests to see group commit work.
	syncs int
}

func (l *Local) journalPath() string { return l.path + ".journal" }

// OpenJournal starts the run's journal for st, the state the run works on
// (read from this Local, or new). A leftover journal must have been folded
// first (Recover); one still being written by another run (possible only
// with -lock=false) is refused.
func (l *Local) OpenJournal(st *State) (Journal, error) {
	path := l.journalPath()
	fl := flock.New(path)
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("open the state journal %s: %w (check that %s is writable)", path, err, filepath.Dir(path))
	}
	if !ok {
		return nil, fmt.Errorf("the state journal %s is being written by another connform run on this state (was -lock=false used?); wait for it to finish, then re-run", path)
	}
	// flock created the file; a journal with content is a leftover that
	// Recover should have folded.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err == nil {
		var fi os.FileInfo
		if fi, err = f.Stat(); err == nil && fi.Size() > 0 {
			f.Close()
			fl.Unlock()
			return nil, fmt.Errorf("the state journal %s holds the work of an earlier run that was not folded into %s; run connform apply with the lock (without -lock=false) to fold it in", path, l.path)
		}
	}
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		fl.Unlock()
		return nil, fmt.Errorf("open the state journal %s: %w", path, err)
	}
	j := &FileJournal{l: l, path: path, f: f, fl: fl, intents: intents{}}
	j.cond = sync.NewCond(&j.mu)
	if err := j.Record(Entry{Op: OpBegin, Lineage: st.Lineage, Serial: st.Serial, Version: st.ConnformVersion}); err != nil {
		j.abandon()
		return nil, err
	}
	// The journal's name must survive a power loss too, or its records
	// would vanish with it.
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		j.abandon()
		return nil, fmt.Errorf("open the state journal %s: %w", path, err)
	}
	j.records = 0
	return j, nil
}

// Path returns the journal's file name.
func (j *FileJournal) Path() string { return j.path }

// Record appends e and returns once it is durable (fsynced), sharing the
// sync with concurrent calls. After a failure every later Record fails
// too: the run must stop recording, and Commit still saves what it holds.
func (j *FileJournal) Record(e Entry) error {
	data, err := frame(e)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	j.buf = append(j.buf, data...)
	j.appended++
	j.intents.note(e)
	j.records++
	mine := j.appended
	for j.synced < mine && j.err == nil {
		if j.syncing {
			j.cond.Wait()
			continue
		}
		j.syncing = true
		batch, upto := j.buf, j.appended
		j.buf = nil
		j.mu.Unlock()
		_, werr := j.f.Write(batch)
		if werr == nil {
			werr = j.f.Sync()
		}
		j.mu.Lock()
		j.syncing = false
		j.syncs++
		if werr != nil {
			j.err = fmt.Errorf("record in the state journal %s: %w (is the disk full?)", j.path, werr)
		} else {
			j.synced = upto
		}
		j.cond.Broadcast()
	}
	return j.err
}

// Records returns how many entries the run recorded.
func (j *FileJournal) Records() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.records
}

// Syncs returns how many fsyncs the journal made, for tests and benchmarks.
func (j *FileJournal) Syncs() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.syncs
}

// Commit folds the run into the state: every library file announced and
// never recorded becomes an orphan of st, st is written (Local.Write, with
// its conflict check), and the journal is removed. If the state cannot be
// written the journal stays, so the next run folds it in; on a conflict
// (someone replaced the state file) this run's state is kept beside it and
// the journal goes, since that copy holds everything the journal did.
func (j *FileJournal) Commit(st *State) error {
	j.mu.Lock()
	j.intents.settle(st)
	j.mu.Unlock()
	err := j.l.Write(st)
	var conflict *ConflictError
	if err != nil && !errors.Is(err, atomicfile.ErrNotDurable) && !(errors.As(err, &conflict) && conflict.Kept != "") {
		j.close()
		return fmt.Errorf("%w; this run's work is kept in %s, which the next apply folds into the state", err, j.path)
	}
	if rerr := j.remove(); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// abandon closes and removes a journal that recorded nothing of value.
func (j *FileJournal) abandon() {
	_ = j.remove()
}

// Close ends a journal without folding it: it stays for the next run
// unless it holds nothing but its opening record.
func (j *FileJournal) Close() error {
	if j.Records() == 0 {
		return j.remove()
	}
	return j.close()
}

func (j *FileJournal) close() error {
	err := j.f.Close()
	j.fl.Unlock()
	return err
}

func (j *FileJournal) remove() error {
	// Removed while still locked, so a -lock=false run cannot take over a
	// journal that is about to disappear.
	err := os.Remove(j.path)
	j.close()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the state journal %s: %w; the state was saved, so delete it by hand", j.path, err)
	}
	_ = atomicfile.SyncDir(filepath.Dir(j.path))
	return nil
}

// leftover reads a journal a run left behind. It returns nil entries when
// there is none (or it is empty).
func (l *Local) leftover() (entries []Entry, ignored int64, err error) {
	f, err := os.Open(l.journalPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read the state journal %s: %w", l.journalPath(), err)
	}
	defer f.Close()
	entries, ignored, err = readJournal(f)
	if err != nil {
		return nil, 0, fmt.Errorf("read the state journal %s: %w", l.journalPath(), err)
	}
	return entries, ignored, nil
}

// fold applies a leftover journal's entries to s (nil when there is no
// state file yet: the journal's opening record then names the state the
// run had created). It refuses a journal of another state.
func (l *Local) fold(s *State, entries []Entry) (*State, error) {
	if len(entries) == 0 {
		return s, nil
	}
	begin := entries[0]
	if begin.Op != OpBegin || begin.Lineage == "" {
		return nil, fmt.Errorf("the state journal %s does not start with its opening record; it was not written by connform: move it away", l.journalPath())
	}
	if s == nil {
		s = &State{Version: FormatVersion, Lineage: begin.Lineage, Serial: begin.Serial, ConnformVersion: begin.Version}
	}
	if s.Lineage != begin.Lineage {
		return nil, fmt.Errorf("the state journal %s belongs to another state (lineage %s) than %s (lineage %s); it was left untouched: if that state is gone for good, move the journal away",
			l.journalPath(), begin.Lineage, l.path, s.Lineage)
	}
	in := intents{}
	for _, e := range entries[1:] {
		s.Apply(e)
		in.note(e)
	}
	in.settle(s)
	return s, nil
}

// Recover folds a journal left by a run that died into the state file,
// then removes the journal. Call it holding the state lock, before Read;
// it returns how many records it folded (0 when there was no journal). A
// journal still being written by a live run is refused.
func (l *Local) Recover() (int, error) {
	if _, err := os.Stat(l.journalPath()); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	fl := flock.New(l.journalPath())
	ok, err := fl.TryLock()
	if err != nil {
		return 0, fmt.Errorf("lock the state journal %s: %w", l.journalPath(), err)
	}
	if !ok {
		return 0, fmt.Errorf("the state journal %s is being written by another connform run on this state (was -lock=false used?); wait for it to finish, then re-run", l.journalPath())
	}
	defer fl.Unlock()
	entries, ignored, err := l.leftover()
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	raw, s, err := l.load()
	if s != nil {
		l.seen = &seenState{lineage: s.Lineage, serial: s.Serial, digest: sha256.Sum256(raw)}
	}
	l.mu.Unlock()
	if err != nil {
		return 0, err
	}
	folded, err := l.fold(s, entries)
	if err != nil {
		return 0, err
	}
	n := max(len(entries)-1, 0)
	if n > 0 {
		if err := l.Write(folded); err != nil && !errors.Is(err, atomicfile.ErrNotDurable) {
			return 0, fmt.Errorf("fold the state journal %s into %s: %w; the journal was kept", l.journalPath(), l.path, err)
		}
		l.notify(fmt.Sprintf("Folded %d record(s) of an interrupted run from %s into %s.", n, l.journalPath(), l.path))
	}
	if ignored > 0 {
		l.notify(fmt.Sprintf("The last %d byte(s) of %s were an incomplete record (the run was killed while writing it) and were ignored: that connection was not finished.", ignored, l.journalPath()))
	}
	if err := os.Remove(l.journalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n, fmt.Errorf("remove the state journal %s after folding it: %w; delete it by hand", l.journalPath(), err)
	}
	_ = atomicfile.SyncDir(filepath.Dir(l.journalPath()))
	return n, nil
}
