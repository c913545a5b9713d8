package apply

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"connform/config"
	"connform/library"
	"connform/state"
)

// fileEvents collects what apply reports about library files.
type fileEvents struct {
	mu            sync.Mutex
	removed, kept []string
}

func (f *fileEvents) add(e Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch e.Kind {
	case EventFileRemoved:
		f.removed = append(f.removed, e.Message)
	case EventFileKept:
		f.kept = append(f.kept, e.Message)
	}
}

// What apply does with recorded library files it no longer keeps: it
// removes a file only when it is connform's (inside the library folder, the
// content recorded), and reports anything else as left in place.
func TestRunRemovesOnlyItsOwnFiles(t *testing.T) {
	tests := []struct {
		name string
		// tamper changes the applied state and library folder (dir) before
		// a run that destroys connection.org01; it returns the file that
		// must survive, or "".
		tamper      func(t *testing.T, st *state.State, dir string) string
		wantRemoved bool
		wantKept    string
	}{
		{"the entry connform wrote", func(*testing.T, *state.State, string) string { return "" }, true, ""},
		{"edited since", func(t *testing.T, st *state.State, dir string) string {
			p := st.Lookup("connection.org01").LibraryPath
			writeTestFile(t, p, "edited by hand")
			return p
		}, false, "its content is not what connform wrote"},
		{"state points outside the folder", func(t *testing.T, st *state.State, dir string) string {
			outside := filepath.Join(filepath.Dir(dir), "main.hcl")
			writeTestFile(t, outside, "x")
			c := st.Lookup("connection.org01")
			c.LibraryPath, c.LibraryHash = outside, library.Hash([]byte("x"))
			return outside
		}, false, "outside the library folder"},
		{"state climbs out with ..", func(t *testing.T, st *state.State, dir string) string {
			outside := filepath.Join(filepath.Dir(dir), "main.hcl")
			writeTestFile(t, outside, "x")
			c := st.Lookup("connection.org01")
			c.LibraryPath, c.LibraryHash = dir+"/../main.hcl", library.Hash([]byte("x"))
			return outside
		}, false, `the path contains ".."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, conns := setup(t, 2)
			cfg := &config.Config{Connections: conns}
			opt := options(t, e, true)
			st := state.New("test")
			applied(t, cfg, st, opt)
			survivor := tt.tamper(t, st, opt.LibraryDir)
			recorded := st.Lookup("connection.org01").LibraryPath

			var ev fileEvents
			opt.Events = ev.add
			one := &config.Config{Connections: conns[1:]}
			res := applied(t, one, st, opt)
			if len(res.Failed()) > 0 {
				t.Fatal(res.Failed()[0].Err)
			}
			if st.Lookup("connection.org01") != nil {
				t.Error("the destroyed connection is still in the state")
			}
			if _, err := os.Stat(recorded); (err == nil) == tt.wantRemoved && survivor == "" {
				t.Errorf("%s exists after the run: %v, want removed: %v", recorded, err == nil, tt.wantRemoved)
			}
			if survivor != "" {
				if _, err := os.Stat(survivor); err != nil {
					t.Errorf("%s was not left in place: %v", survivor, err)
				}
			}
			if tt.wantRemoved != (len(ev.removed) == 1) {
				t.Errorf("removal events %v, want one: %v", ev.removed, tt.wantRemoved)
			}
			if tt.wantKept != "" && (len(ev.kept) != 1 || !strings.HasPrefix(ev.kept[0], "left in place: ") || !strings.Contains(ev.kept[0], tt.wantKept)) {
				t.Errorf("left-in-place events %q, want one saying %q", ev.kept, tt.wantKept)
			}
		})
	}
}

// An orphan (a file a run that died wrote and never recorded) is removed by
// the next run when its content is what connform wrote, and forgotten.
func TestRunRemovesOrphans(t *testing.T) {
	e, conns := setup(t, 1)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	st := state.New("test")
	applied(t, cfg, st, opt)

	ours := filepath.Join(opt.LibraryDir, "ghost.json")
	writeTestFile(t, ours, "ghost")
	edited := filepath.Join(opt.LibraryDir, "edited.json")
	writeTestFile(t, edited, "edited since")
	st.Apply(state.Entry{Op: state.OpOrphan, Path: ours, Hash: library.Hash([]byte("ghost")), Addr: "connection.ghost"})
	st.Apply(state.Entry{Op: state.OpOrphan, Path: edited, Hash: library.Hash([]byte("what connform wrote")), Addr: "connection.edited"})

	var ev fileEvents
	opt.Events = ev.add
	conns[0].Description = "changed" // something to apply
	w := &countingWriter{}
	if _, err := Run(context.Background(), makePlan(t, cfg, st, opt), cfg, st, w, opt); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ours); !os.IsNotExist(err) {
		t.Errorf("the orphan %s is still there (stat: %v)", ours, err)
	}
	if _, err := os.Stat(edited); err != nil {
		t.Errorf("the edited orphan %s was not left in place: %v", edited, err)
	}
	if len(ev.removed) != 1 || len(ev.kept) != 1 {
		t.Errorf("removed %v, kept %v; want one of each", ev.removed, ev.kept)
	}
	if len(st.Orphans) != 0 {
		t.Errorf("orphans still recorded: %+v", st.Orphans)
	}
}

// With -lock=false another run may write and record the same entry while
// this one fails to record it: this run's undo must leave that entry alone.
type racedWriter struct{ countingWriter }

func (w *racedWriter) Record(es ...state.Entry) error {
	for _, e := range es {
		if e.Op == state.OpPut {
			os.WriteFile(e.Conn.LibraryPath, []byte("the other run's entry"), 0o600)
			return os.ErrDeadlineExceeded
		}
	}
	return w.countingWriter.Record(es...)
}

func TestRunUndoLeavesAnotherRunsEntry(t *testing.T) {
	e, conns := setup(t, 1)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	res, err := Run(context.Background(), makePlan(t, cfg, nil, opt), cfg, state.New("test"), &racedWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	failed := res.Failed()
	if len(failed) != 1 || !strings.Contains(failed[0].Err.Error(), "left in place") {
		t.Fatalf("failures %v, want one saying the entry was left in place", failed)
	}
	if data, _ := os.ReadFile(opt.LibraryFile(conns[0])); string(data) != "the other run's entry" {
		t.Errorf("the other run's entry was undone: %q", data)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// An entry that moves (the library format changed) is written under its
// new name first; the old file becomes an orphan in the same record that
// names the new one, so no crash leaves it recorded by nobody, and is then
// removed.
func TestRunMovedEntryRemovesTheOldFile(t *testing.T) {
	e, conns := setup(t, 1)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	st := state.New("test")
	applied(t, cfg, st, opt)
	old := st.Lookup("connection.org01").LibraryPath

	opt.LibraryFormat = "dsconn"
	opt.LibraryFile = func(c *config.Connection) string { return filepath.Join(opt.LibraryDir, c.Name+".dsconn") }
	w := &countingWriter{}
	res, err := Run(context.Background(), makePlan(t, cfg, st, opt), cfg, st, w, opt)
	if err != nil || len(res.Failed()) > 0 {
		t.Fatal(err, res.Failed())
	}
	now := st.Lookup("connection.org01").LibraryPath
	if now == old || filepath.Ext(now) != ".dsconn" {
		t.Fatalf("entry recorded at %s, want a .dsconn beside %s", now, old)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the old entry %s is still there (stat: %v)", old, err)
	}
	var put *state.Entry
	for i, e := range w.entries {
		if e.Op == state.OpPut {
			put = &w.entries[i]
		}
	}
	if put == nil || put.Path != old || put.Conn.LibraryPath != now {
		t.Errorf("the record naming the new entry does not make the old one an orphan: %+v", put)
	}
	if len(st.Orphans) != 0 {
		t.Errorf("orphans left: %+v", st.Orphans)
	}
}
