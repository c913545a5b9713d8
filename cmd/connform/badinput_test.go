package main

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"connform/addrs"
	"connform/state"
)

// snapshotExt marks the files that hold snapshots; they are left out of
// every listing so that taking one does not change the next.
const snapshotExt = ".snap"

// cmdSnapshot records what DIR holds (every file and folder below it, with
// its mode and a digest of its content, or a symlink's target) in FILE:
// "snapshot DIR FILE.snap". With cmpsnapshot it is how the bad-input
// scripts prove that a refused input left everything as it was.
func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || !strings.HasSuffix(args[1], snapshotExt) {
		ts.Fatalf("usage: snapshot DIR FILE%s", snapshotExt)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(listing(ts, args[0])), 0o600))
}

// cmdCmpSnapshot fails, naming each difference, when DIR no longer holds
// what "snapshot DIR FILE" recorded: "cmpsnapshot DIR FILE.snap".
func cmdCmpSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cmpsnapshot DIR FILE%s (it cannot be negated: use it after every refused command)", snapshotExt)
	}
	was := strings.Split(ts.ReadFile(args[1]), "\n")
	now := strings.Split(listing(ts, args[0]), "\n")
	before := map[string]string{}
	for _, l := range was {
		if p, rest, ok := strings.Cut(l, "\t"); ok {
			before[p] = rest
		}
	}
	var diffs []string
	for _, l := range now {
		p, rest, ok := strings.Cut(l, "\t")
		if !ok {
			continue
		}
		switch old, seen := before[p]; {
		case !seen:
			diffs = append(diffs, "written: "+p)
		case old != rest:
			diffs = append(diffs, fmt.Sprintf("changed: %s (%s, was %s)", p, rest, old))
		}
		delete(before, p)
	}
	for p := range before {
		diffs = append(diffs, "removed: "+p)
	}
	if len(diffs) > 0 {
		ts.Fatalf("%s is not as %s recorded it:\n%s", args[0], args[1], strings.Join(diffs, "\n"))
	}
}

func listing(ts *testscript.TestScript, dir string) string {
	root := ts.MkAbs(dir)
	var b strings.Builder
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		// testscript's own temporary folder is not connform's to keep clean.
		if rel == ".tmp" && d.IsDir() {
			return filepath.SkipDir
		}
		if strings.HasSuffix(rel, snapshotExt) || rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		var what string
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			what = "-> " + target
		case d.IsDir():
			what = "dir"
		default:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			what = fmt.Sprintf("%x", sha256.Sum256(data))
		}
		fmt.Fprintf(&b, "%s\t%v %s\n", filepath.ToSlash(rel), info.Mode(), what)
		return nil
	})
	ts.Check(err)
	return b.String()
}

// cmdLeftoverJournal leaves a state journal as an apply killed after
// finishing the given connections would: "leftoverjournal STATEFILE ADDR...".
// Each connection is recorded as the run's journal records it; the journal
// is closed without being folded into the state.
func cmdLeftoverJournal(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: leftoverjournal STATEFILE ADDR...")
	}
	l := state.NewLocal(ts.MkAbs(args[0]))
	st, err := l.Read()
	ts.Check(err)
	if st == nil {
		st = state.New("test")
	}
	j, err := l.OpenJournal(st)
	ts.Check(err)
	for _, a := range args[1:] {
		inst, err := addrs.ParseInstance(a)
		ts.Check(err)
		ts.Check(j.Record(state.Entry{Op: state.OpPut, Conn: &state.Connection{
			Addr: inst.String(), Name: inst.Name, Key: inst.Key,
			Attributes: map[string]string{"url": "https://" + inst.Name + ".crm4.dynamics.com"},
		}}))
	}
	ts.Check(j.Close())
}
