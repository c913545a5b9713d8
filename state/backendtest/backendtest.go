// Package backendtest is the conformance suite every state backend must
// pass: a backend's own test calls Run with a way to open it. It lives in
// its own package so that production code never links the testing package,
// and it checks only what state.Backend promises, so the local file backend
// and a remote one (Azure Blob Storage next) are held to the same contract.
package backendtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	address "connform/addrs"
	"connform/state"
)

// Open returns a function that opens the backend under test, each call a
// new instance (as a new process would make) on the same storage. Every
// call of Open itself must give fresh, empty storage.
type Open func(t *testing.T) func() state.Backend

// Run checks backend against the contract of state.Backend.
func Run(t *testing.T, open Open) {
	t.Run("read without state", func(t *testing.T) { readEmpty(t, open(t)) })
	t.Run("write then read", func(t *testing.T) { roundTrip(t, open(t)) })
	t.Run("serial moves only on change", func(t *testing.T) { serial(t, open(t)) })
	t.Run("conflicting writes keep both states", func(t *testing.T) { conflicts(t, open) })
	t.Run("lock excludes another run", func(t *testing.T) { locking(t, open(t)) })
	t.Run("force-unlock needs the right lock", func(t *testing.T) { forceUnlock(t, open(t)) })
	t.Run("workspaces", func(t *testing.T) { workspaces(t, open(t)) })
	t.Run("journal committed", func(t *testing.T) { journalCommitted(t, open(t)) })
	t.Run("journal of a run that died", func(t *testing.T) { journalRecovered(t, open(t)) })
	t.Run("journal of a first run that died", func(t *testing.T) { journalFirstRun(t, open(t)) })
	t.Run("unrecorded library write becomes an orphan", func(t *testing.T) { journalOrphans(t, open) })
	t.Run("concurrent records all survive", func(t *testing.T) { journalConcurrent(t, open(t)) })
}

// conn is a record as apply writes it: name and key agree with the address,
// which every backend's reader checks.
func conn(addr string) *state.Connection {
	inst, err := address.ParseInstance(addr)
	if err != nil {
		panic(err)
	}
	return &state.Connection{Addr: addr, Name: inst.Name, Key: inst.Key, Attributes: map[string]string{"url": "https://" + addr + ".example"},
		LibraryPath: "library/" + addr + ".json", LibraryHash: "sha256:" + addr}
}

func read(t *testing.T, b state.Backend) *state.State {
	t.Helper()
	s, err := b.Read()
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return s
}

func write(t *testing.T, b state.Backend, s *state.State) {
	t.Helper()
	if err := b.Write(s); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func addrs(s *state.State) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, c := range s.Connections {
		out = append(out, c.Addr)
	}
	return out
}

func wantAddrs(t *testing.T, what string, s *state.State, want ...string) {
	t.Helper()
	if got := addrs(s); !slices.Equal(got, want) {
		t.Fatalf("%s holds %v, want %v", what, got, want)
	}
	for _, a := range want {
		if s.Lookup(a) == nil {
			t.Fatalf("%s: Lookup(%q) = nil although it is listed", what, a)
		}
	}
}

func readEmpty(t *testing.T, newBackend func() state.Backend) {
	s, err := newBackend().Read()
	if s != nil || err != nil {
		t.Fatalf("Read of empty storage = %v, %v; want nil, nil", s, err)
	}
}

func roundTrip(t *testing.T, newBackend func() state.Backend) {
	s := state.New("test")
	s.Put(conn("connection.b"))
	s.Put(conn("connection.a"))
	write(t, newBackend(), s)
	got := read(t, newBackend())
	if got == nil || got.Lineage != s.Lineage || got.Serial == 0 {
		t.Fatalf("Read after Write = %+v, want lineage %s and a serial above 0", got, s.Lineage)
	}
	wantAddrs(t, "the state read back", got, "connection.a", "connection.b")
	if c := got.Lookup("connection.a"); c.Attributes["url"] != "https://connection.a.example" || c.LibraryHash != "sha256:connection.a" {
		t.Errorf("connection.a read back as %+v", c)
	}
}

func serial(t *testing.T, newBackend func() state.Backend) {
	b := newBackend()
	s := state.New("test")
	s.Put(conn("connection.a"))
	write(t, b, s)
	first := s.Serial
	write(t, b, s)
	if s.Serial != first {
		t.Errorf("an unchanged write moved the serial from %d to %d", first, s.Serial)
	}
	s.Put(conn("connection.b"))
	write(t, b, s)
	if s.Serial <= first {
		t.Errorf("a changed write left the serial at %d (was %d)", s.Serial, first)
	}
	if got := read(t, newBackend()); got.Serial != s.Serial {
		t.Errorf("stored serial %d, the writer says %d", got.Serial, s.Serial)
	}
}

func conflicts(t *testing.T, open Open) {
	tests := []struct {
		name  string
		setup func(t *testing.T, newBackend func() state.Backend) (state.Backend, *state.State)
	}{
		{"another run wrote after this one read", func(t *testing.T, newBackend func() state.Backend) (state.Backend, *state.State) {
			mine := newBackend()
			s := read(t, mine)
			other := newBackend()
			o := read(t, other)
			o.Put(conn("connection.theirs"))
			write(t, other, o)
			s.Put(conn("connection.mine"))
			return mine, s
		}},
		{"another state in its place", func(t *testing.T, newBackend func() state.Backend) (state.Backend, *state.State) {
			s := state.New("test")
			s.Put(conn("connection.mine"))
			return newBackend(), s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newBackend := open(t)
			seed := state.New("test")
			seed.Put(conn("connection.a"))
			write(t, newBackend(), seed)
			b, s := tt.setup(t, newBackend)
			before := read(t, newBackend())

			err := b.Write(s)
			var conflict *state.ConflictError
			if !errors.As(err, &conflict) {
				t.Fatalf("Write over someone else's state = %v, want a *state.ConflictError", err)
			}
			if conflict.Kept == "" {
				t.Errorf("the conflict kept this run's state nowhere: %v", err)
			}
			after := read(t, newBackend())
			if after.Lineage != before.Lineage || after.Serial != before.Serial || !slices.Equal(addrs(after), addrs(before)) {
				t.Errorf("the other state was overwritten: %v serial %d, was %v serial %d", addrs(after), after.Serial, addrs(before), before.Serial)
			}
		})
	}
}

func locking(t *testing.T, newBackend func() state.Backend) {
	ctx := context.Background()
	holder := state.NewLockInfo("apply", "test")
	unlock, err := newBackend().Lock(ctx, holder, 0)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	_, err = newBackend().Lock(ctx, state.NewLockInfo("plan", "test"), 0)
	var locked *state.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("a second Lock while held = %v, want a *state.LockedError", err)
	}
	if locked.Info.ID != holder.ID || locked.Info.Operation != "apply" {
		t.Errorf("LockedError names %+v, want the holder %s (apply)", locked.Info, holder.ID)
	}
	start := time.Now()
	if _, err := newBackend().Lock(ctx, state.NewLockInfo("plan", "test"), 200*time.Millisecond); !errors.As(err, &locked) {
		t.Errorf("Lock with a timeout while held = %v, want a *state.LockedError", err)
	} else if time.Since(start) < 200*time.Millisecond {
		t.Errorf("Lock gave up after %s, before its 200ms timeout", time.Since(start))
	}
	if err := unlock(); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock: %v", err)
	}
	again, err := newBackend().Lock(ctx, state.NewLockInfo("plan", "test"), 0)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	again()
}

func forceUnlock(t *testing.T, newBackend func() state.Backend) {
	b := newBackend()
	if err := b.CheckForceUnlock("no-such-lock"); err == nil {
		t.Error("CheckForceUnlock without a lock = nil, want an error saying there is none")
	}
	info := state.NewLockInfo("apply", "test")
	unlock, err := b.Lock(context.Background(), info, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if err := newBackend().CheckForceUnlock("not-" + info.ID); err == nil {
		t.Error("CheckForceUnlock with another ID = nil, want an error")
	}
	if err := newBackend().ForceUnlock("not-" + info.ID); err == nil {
		t.Error("ForceUnlock with another ID = nil, want an error")
	}
	if err := newBackend().CheckForceUnlock(info.ID); err != nil {
		t.Errorf("CheckForceUnlock with the holder's ID = %v, want nil", err)
	}
}

func workspaces(t *testing.T, newBackend func() state.Backend) {
	ws, err := newBackend().Workspaces()
	if err != nil || !slices.Contains(ws, state.DefaultWorkspace) {
		t.Fatalf("Workspaces = %v, %v; want a list with %q", ws, err, state.DefaultWorkspace)
	}
}

func openJournal(t *testing.T, b state.Backend, s *state.State) state.Journal {
	t.Helper()
	j, err := b.OpenJournal(s)
	if err != nil {
		t.Fatalf("OpenJournal: %v", err)
	}
	return j
}

func record(t *testing.T, j state.Journal, s *state.State, e state.Entry) {
	t.Helper()
	if err := j.Record(e); err != nil {
		t.Fatalf("Record(%s): %v", e.Op, err)
	}
	s.Apply(e)
}

func recoverN(t *testing.T, b state.Backend) int {
	t.Helper()
	n, err := b.Recover()
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	return n
}

func seeded(t *testing.T, newBackend func() state.Backend) (state.Backend, *state.State) {
	s := state.New("test")
	s.Put(conn("connection.a"))
	write(t, newBackend(), s)
	b := newBackend()
	return b, read(t, b)
}

func journalCommitted(t *testing.T, newBackend func() state.Backend) {
	b, s := seeded(t, newBackend)
	j := openJournal(t, b, s)
	record(t, j, s, state.Entry{Op: state.OpPut, Conn: conn("connection.b")})
	record(t, j, s, state.Entry{Op: state.OpRemove, Addr: "connection.a"})
	if err := j.Commit(s); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	wantAddrs(t, "the state after Commit", read(t, newBackend()), "connection.b")
	if n := recoverN(t, newBackend()); n != 0 {
		t.Errorf("Recover after a commit folded %d records, want 0 (the journal ends with its run)", n)
	}
}

func journalRecovered(t *testing.T, newBackend func() state.Backend) {
	b, s := seeded(t, newBackend)
	j := openJournal(t, b, s)
	record(t, j, s, state.Entry{Op: state.OpPut, Conn: conn("connection.b")})
	record(t, j, s, state.Entry{Op: state.OpRemove, Addr: "connection.a"})
	// The run dies: its journal is neither committed nor removed.
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// A reader without the lock sees the finished work, changing nothing.
	wantAddrs(t, "Read with a leftover journal", read(t, newBackend()), "connection.b")
	wantAddrs(t, "Read again", read(t, newBackend()), "connection.b")

	next := newBackend()
	if n := recoverN(t, next); n != 2 {
		t.Errorf("Recover folded %d records, want 2", n)
	}
	got := read(t, next)
	wantAddrs(t, "the state after Recover", got, "connection.b")
	if n := recoverN(t, newBackend()); n != 0 {
		t.Errorf("a second Recover folded %d records, want 0", n)
	}
	// The next run goes on from the folded state without a conflict.
	got.Put(conn("connection.c"))
	write(t, next, got)
}

func journalFirstRun(t *testing.T, newBackend func() state.Backend) {
	b := newBackend()
	if s := read(t, b); s != nil {
		t.Fatalf("fresh storage holds a state: %+v", s)
	}
	s := state.New("test")
	j := openJournal(t, b, s)
	record(t, j, s, state.Entry{Op: state.OpPut, Conn: conn("connection.a")})
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	next := newBackend()
	if n := recoverN(t, next); n != 1 {
		t.Errorf("Recover folded %d records, want 1", n)
	}
	got := read(t, next)
	if got == nil || got.Lineage != s.Lineage {
		t.Fatalf("state after Recover = %+v, want the dead run's lineage %s", got, s.Lineage)
	}
	wantAddrs(t, "the recovered state", got, "connection.a")
}

func journalOrphans(t *testing.T, open Open) {
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			newBackend := open(t)
			b, s := seeded(t, newBackend)
			j := openJournal(t, b, s)
			// connection.b's file was written and recorded; connection.c's
			// was written, and the run ended before recording it.
			record(t, j, s, state.Entry{Op: state.OpWriting, Addr: "connection.b", Path: "library/connection.b.json", Hash: "sha256:connection.b"})
			record(t, j, s, state.Entry{Op: state.OpPut, Conn: conn("connection.b")})
			record(t, j, s, state.Entry{Op: state.OpWriting, Addr: "connection.c", Path: "library/c.json", Hash: "sha256:c"})
			// connection.a's file was rewritten in place: recorded, not an orphan.
			record(t, j, s, state.Entry{Op: state.OpWriting, Addr: "connection.a", Path: "library/connection.a.json", Hash: "sha256:new"})
			if crash {
				if err := j.Close(); err != nil {
					t.Fatal(err)
				}
				recoverN(t, newBackend())
			} else if err := j.Commit(s); err != nil {
				t.Fatal(err)
			}
			got := read(t, newBackend())
			want := []state.Orphan{{Path: "library/c.json", Hash: "sha256:c", Addr: "connection.c"}}
			if !slices.Equal(got.Orphans, want) {
				t.Fatalf("orphans = %+v, want %+v", got.Orphans, want)
			}
			// Removing the orphan is recorded too.
			j = openJournal(t, newBackend(), got)
			record(t, j, got, state.Entry{Op: state.OpGone, Path: "library/c.json"})
			if err := j.Commit(got); err != nil {
				t.Fatal(err)
			}
			if o := read(t, newBackend()).Orphans; len(o) != 0 {
				t.Errorf("orphans after OpGone = %+v, want none", o)
			}
		})
	}
}

func journalConcurrent(t *testing.T, newBackend func() state.Backend) {
	b, s := seeded(t, newBackend)
	j := openJournal(t, b, s)
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- j.Record(state.Entry{Op: state.OpPut, Conn: conn(fmt.Sprintf("connection.c%02d", i))})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	next := newBackend()
	if got := recoverN(t, next); got != n {
		t.Errorf("Recover folded %d records, want %d", got, n)
	}
	if got := read(t, next); len(got.Connections) != n+1 {
		t.Errorf("recovered state holds %d connections, want %d", len(got.Connections), n+1)
	}
}
