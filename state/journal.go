package state

import (
	"bufio"
	"connform/internal/words"
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
	// OpPut records a connection as applied (Conn). When the connection's
	// library file moved, Path and Hash name the old one, which becomes an
	// orphan in the same record.
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

	// Durable lists files (written with atomicfile.WriteUnsynced) that
	// must reach the disk before this entry does: a record must never
	// name a file a power loss could still take away. The journal syncs
	// them together with the other entries of the same commit.
	Durable []string `json:"-"`
}

// Apply makes the change e records to s. Entries that only a journal
// tracks (begin, writing) change nothing here.
func (s *State) Apply(e Entry) {
	switch e.Op {
	case OpPut:
		if e.Conn != nil {
			s.Put(e.Conn)
		}
		if e.Path != "" {
			s.addOrphan(Orphan{Path: e.Path, Hash: e.Hash, Addr: e.Addr})
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

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*pendingRecord // records waiting for the next commit
	syncing bool             // a goroutine is committing a batch
	err     error            // the first failure: the journal takes no more records
	intents intents
	records int
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
	fl := flock.New(journalLockPath(path))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("open the state journal %s: %w (check that %s is writable)", path, err, filepath.Dir(path))
	}
	if !ok {
		return nil, fmt.Errorf("the state journal %s is being written by another connform run on this state (was -lock=false used?); wait for it to finish, then re-run", path)
	}
	// A journal with content is a leftover that Recover should have folded.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
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
	return j, nil
}

// Path returns the journal's file name.
func (j *FileJournal) Path() string { return j.path }

// Record appends entries and returns once they (and the files they name
// in Durable) are durable, sharing one sync with concurrent calls (the
// entries of one call go in one write, of which a crash keeps a prefix:
// give together only entries that stand on their own). After a failure to
// write the journal every later Record fails too: the run must stop
// recording, and Commit still saves what it holds. A failure to sync an
// entry's files fails that call only; it is not recorded.
func (j *FileJournal) Record(entries ...Entry) error {
	if len(entries) == 0 {
		return nil
	}
	p := &pendingRecord{}
	for _, e := range entries {
		data, err := frame(e)
		if err != nil {
			return err
		}
		p.data = append(p.data, data...)
		p.files = append(p.files, e.Durable...)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	j.queue = append(j.queue, p)
	for !p.done && j.err == nil {
		if j.syncing {
			j.cond.Wait()
			continue
		}
		j.syncing = true
		batch := j.queue
		j.queue = nil
		j.mu.Unlock()
		werr := j.commitBatch(batch)
		j.mu.Lock()
		j.syncing = false
		j.syncs++
		for _, q := range batch {
			q.done = true
		}
		if werr != nil {
			j.err = fmt.Errorf("record in the state journal %s: %w (is the disk full?)", j.path, werr)
		}
		j.cond.Broadcast()
	}
	if p.err != nil {
		return p.err
	}
	if j.err != nil {
		return j.err
	}
	for _, e := range entries {
		j.intents.note(e)
		if e.Op != OpBegin {
			j.records++
		}
	}
	return nil
}

// pendingRecord is one call's entries waiting for the next commit.
type pendingRecord struct {
	data  []byte
	files []string
	err   error // its files could not be synced: not recorded
	done  bool
}

// commitBatch makes a batch durable: first the files its entries name,
// then the entries themselves, with one write and one fsync.
func (j *FileJournal) commitBatch(batch []*pendingRecord) error {
	var files []string
	for _, q := range batch {
		files = append(files, q.files...)
	}
	if len(files) > 0 {
		if err := atomicfile.SyncFiles(files); err != nil {
			// Find the entries whose files fail, so the others still go.
			for _, q := range batch {
				if len(q.files) > 0 {
					q.err = atomicfile.SyncFiles(q.files)
				}
			}
		}
	}
	var buf []byte
	for _, q := range batch {
		if q.err == nil {
			buf = append(buf, q.data...)
		}
	}
	if len(buf) == 0 {
		return nil
	}
	if _, err := j.f.Write(buf); err != nil {
		return err
	}
	return j.f.Sync()
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
	j.f.Close()
	err := removeLocked(j.path, os.Remove, func() { j.fl.Unlock() }, retryRemoveUnlocked)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the state journal %s: %w; the state was saved, so delete it by hand", j.path, err)
	}
	_ = atomicfile.SyncDir(filepath.Dir(j.path))
	return nil
}

// removeLocked removes path, a file under an OS lock that unlock releases.
// It is removed while still locked, so a -lock=false run cannot take over a
// journal that is about to disappear. Where the OS refuses to remove a file
// that any handle holds open (Windows), retryUnlocked tries once more after
// unlocking.
func removeLocked(path string, remove func(string) error, unlock func(), retryUnlocked bool) error {
	err := remove(path)
	unlock()
	if err != nil && retryUnlocked && !errors.Is(err, fs.ErrNotExist) {
		err = remove(path)
	}
	return err
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

// describeEntries says what a leftover journal holds, in the user's terms.
func describeEntries(entries []Entry) string {
	var done, files int
	for _, e := range entries {
		switch e.Op {
		case OpPut, OpRemove:
			done++
		case OpWriting:
			files++
		}
	}
	return words.Count(done, "connection") + " finished, " + words.Count(files, "library file") + " announced"
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
	for i, e := range entries[1:] {
		// A journal is a file anyone could have edited, like the state:
		// what it records must pass what a state file passes.
		if e.Op == OpPut {
			problem := "its connection is null"
			if e.Conn != nil {
				problem = checkAddresses([]*Connection{e.Conn})
			}
			if problem != "" {
				return nil, fmt.Errorf("the state journal %s holds a record connform could not have written (record %d: %s); it was left untouched: move it away", l.journalPath(), i+1, problem)
			}
		}
		s.Apply(e)
		in.note(e)
	}
	in.settle(s)
	// A journal is a file on disk like the state, so what it adds passes
	// the checks a state file's content does.
	sanitize(s)
	if problem := checkAddresses(s.Connections); problem != "" {
		return nil, fmt.Errorf("the state journal %s is not valid: %s; it was left untouched: move it away", l.journalPath(), problem)
	}
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
	fl := flock.New(journalLockPath(l.journalPath()))
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
		l.notify(fmt.Sprintf("Folded the journal of an interrupted run (%s) from %s into %s.", describeEntries(entries), l.journalPath(), l.path))
	}
	if ignored > 0 {
		l.notify(fmt.Sprintf("An incomplete record at the end of %s (%s, from a run killed while writing it) was ignored: that connection was not finished.", l.journalPath(), words.Count(int(ignored), "byte")))
	}
	if err := os.Remove(l.journalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n, fmt.Errorf("remove the state journal %s after folding it: %w; delete it by hand", l.journalPath(), err)
	}
	_ = atomicfile.SyncDir(filepath.Dir(l.journalPath()))
	return n, nil
}
