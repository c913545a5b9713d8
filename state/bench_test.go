package state

import (
	"fmt"
	"testing"
)

// BenchmarkJournalCommit measures the end of an apply of 10,000
// connections onto a state of 10,000: the fold into the state file (one
// read with its conflict check, one write) that replaces a rewrite per
// connection.
func BenchmarkJournalCommit(b *testing.B) {
	const n = 10000
	path := statePath(b)
	seed := New("bench")
	for i := range n {
		seed.Put(conn(fmt.Sprintf("connection.c%05d", i), "url", "https://example.crm.dynamics.com", "description", "one"))
	}
	if err := NewLocal(path).Write(seed); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		l := NewLocal(path)
		s, err := l.Read()
		if err != nil {
			b.Fatal(err)
		}
		j, err := l.OpenJournal(s)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			c := conn(fmt.Sprintf("connection.c%05d", i), "url", "https://example.crm.dynamics.com", "description", fmt.Sprint(b.N))
			s.Put(c)
		}
		if err := j.Commit(s); err != nil {
			b.Fatal(err)
		}
	}
}
