// Package dag owns the graph of work a run walks: nodes named by address,
// edges saying which node waits for which, a cycle check, and a walk that
// runs ready nodes concurrently under a bound.
//
// It is its own package, not part of apply, because two layers need the
// same graph: plan refuses a saved plan whose dependencies cannot be walked
// (an unknown node, a cycle), and apply walks it. It is internal and knows
// nothing of connections, so that the resource types coming next (the
// Entra application, its secret, the application user) add nodes and
// edges, not another scheduler.
//
// Edges come in two kinds, because connform has two reasons to wait. An
// Order edge only sequences work: the waiting node runs however the other
// ended (a connection covered by another's sign-in waits for that sign-in,
// and if it failed, gets its own token as it would have anyway). A
// Reference edge is a true need: a node that reads another's result cannot
// run once that one failed, and is reported as not started, naming it.
package dag

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
)

// EdgeKind says what a waiting node needs of the node it waits for.
type EdgeKind int

const (
	// Order: wait until the other node has settled (Step.Settle, or its
	// end), whatever its outcome.
	Order EdgeKind = iota
	// Reference: wait until the other node has ended, and run only if it
	// succeeded.
	Reference
)

// Graph is a set of nodes and the edges between them. Build it, check it
// with Cycle, then Walk it once. Not safe for concurrent building.
type Graph struct {
	ids   []string
	index map[string]int
	// deps[i] are the edges node i waits on; dependents[j] the edges
	// waiting on node j.
	deps, dependents [][]edge
	// edgeAt finds an edge's place in deps[from] and dependents[to], so
	// that connecting stays O(1) however many edges a node has: a plan
	// file is hostile input, and may give one change a million.
	edgeAt map[[2]int][2]int
}

type edge struct {
	node int
	kind EdgeKind
}

// New returns an empty graph.
func New() *Graph { return &Graph{index: map[string]int{}, edgeAt: map[[2]int][2]int{}} }

// Add adds a node; adding one twice is a no-op. Nodes that are ready at the
// same time start in the order they were added, so a walk is as
// predictable as the list it came from.
func (g *Graph) Add(id string) {
	if _, ok := g.index[id]; ok {
		return
	}
	g.index[id] = len(g.ids)
	g.ids = append(g.ids, id)
	g.deps = append(g.deps, nil)
	g.dependents = append(g.dependents, nil)
}

// Has reports whether id is a node.
func (g *Graph) Has(id string) bool {
	_, ok := g.index[id]
	return ok
}

// Connect makes from wait for to. Both must have been added; a node waiting
// for itself is refused (the walk would never start it). A second edge
// between the same two nodes keeps the stronger kind.
func (g *Graph) Connect(from, to string, kind EdgeKind) error {
	f, ok := g.index[from]
	if !ok {
		return fmt.Errorf("%s is not in the graph", from)
	}
	t, ok := g.index[to]
	if !ok {
		return fmt.Errorf("%s waits for %s, which is not in the graph", from, to)
	}
	if f == t {
		return fmt.Errorf("%s waits for itself", from)
	}
	if at, ok := g.edgeAt[[2]int{f, t}]; ok {
		if kind > g.deps[f][at[0]].kind {
			g.deps[f][at[0]].kind = kind
			g.dependents[t][at[1]].kind = kind
		}
		return nil
	}
	g.edgeAt[[2]int{f, t}] = [2]int{len(g.deps[f]), len(g.dependents[t])}
	g.deps[f] = append(g.deps[f], edge{t, kind})
	g.dependents[t] = append(g.dependents[t], edge{f, kind})
	return nil
}

// Cycle returns the nodes of one cycle, each waiting for the next and the
// last for the first, or nil when there is none. A graph with a cycle
// cannot be walked: its nodes would wait for each other forever.
func (g *Graph) Cycle() []string {
	const (
		unseen = iota
		onPath
		finished
	)
	mark := make([]int, len(g.ids))
	var path []int
	var found []int
	// Iterative depth-first search: a graph of 10,000 nodes in one chain
	// must not exhaust the stack.
	type frame struct{ node, next int }
	for start := range g.ids {
		if mark[start] != unseen {
			continue
		}
		stack := []frame{{start, 0}}
		mark[start] = onPath
		path = append(path[:0], start)
		for len(stack) > 0 && found == nil {
			top := &stack[len(stack)-1]
			if top.next == len(g.deps[top.node]) {
				mark[top.node] = finished
				stack = stack[:len(stack)-1]
				path = path[:len(path)-1]
				continue
			}
			n := g.deps[top.node][top.next].node
			top.next++
			switch mark[n] {
			case onPath:
				found = path[slices.Index(path, n):]
			case unseen:
				mark[n] = onPath
				path = append(path, n)
				stack = append(stack, frame{n, 0})
			}
		}
		if found != nil {
			out := make([]string, len(found))
			for i, n := range found {
				out[i] = g.ids[n]
			}
			return out
		}
	}
	return nil
}

// NotStarted is the error of a node the walk never ran.
type NotStarted struct {
	// Dep is the node it referred to that did not succeed; "" when the
	// walk was interrupted before the node could start.
	Dep string
	// Failed is the node whose failure stopped it: Dep itself, or what
	// Dep in turn referred to.
	Failed string
}

func (e *NotStarted) Error() string {
	switch {
	case e.Dep == "":
		return "not started: the run was interrupted"
	case e.Dep == e.Failed:
		return fmt.Sprintf("not started: depends on %s, which failed", e.Dep)
	}
	return fmt.Sprintf("not started: depends on %s, which did not start because %s failed", e.Dep, e.Failed)
}

// Step is a running node's handle on the walk.
type Step struct {
	id            int
	events        chan<- event
	settle, yield bool // touched only by the node's own goroutine
}

// Settle lets the nodes with an Order edge on this one start before it
// ends: a connection's sign-in is over, and the connections it covers need
// wait no longer.
func (s *Step) Settle() {
	if !s.settle {
		s.settle = true
		s.events <- event{node: s.id, kind: settled}
	}
}

// Yield gives the node's place among the walk's parallelism back while it
// waits for something that is not work (a shared disk sync), so another
// node may start meanwhile.
func (s *Step) Yield() {
	if !s.yield {
		s.yield = true
		s.events <- event{node: s.id, kind: yielded}
	}
}

type eventKind int

const (
	settled eventKind = iota
	yielded
	ended
)

type event struct {
	node int
	kind eventKind
	err  error
}

// Walk runs fn once for every node, at most parallelism at a time, each
// once the nodes it waits for allow it. After ctx is done it starts
// nothing more; the nodes running finish. It returns every node's error:
// fn's, or a *NotStarted for a node it never ran. Nodes ready together
// start in the order they were added. A graph with a cycle is refused.
func (g *Graph) Walk(ctx context.Context, parallelism int, fn func(ctx context.Context, id string, s *Step) error) (map[string]error, error) {
	if c := g.Cycle(); c != nil {
		return nil, fmt.Errorf("the work has a cycle: %s", FormatCycle(c))
	}
	parallelism = max(parallelism, 1)
	n := len(g.ids)
	w := &walk{g: g, pending: make([]int, n), results: make(map[string]error, n),
		started: make([]bool, n), done: make([]bool, n), settledN: make([]bool, n)}
	for i := range n {
		w.pending[i] = len(g.deps[i])
		if w.pending[i] == 0 {
			heap.Push(&w.ready, i)
		}
	}
	// Buffered so that a node never blocks on telling the walk it is
	// done: each sends at most three events.
	events := make(chan event, 3*parallelism)
	running, slots := 0, 0
	holding := make([]bool, n)
	for {
		for ctx.Err() == nil && slots < parallelism && w.ready.Len() > 0 {
			i := heap.Pop(&w.ready).(int)
			if w.done[i] {
				continue
			}
			w.started[i] = true
			running++
			slots++
			holding[i] = true
			go func() {
				s := &Step{id: i, events: events}
				err := fn(ctx, g.ids[i], s)
				events <- event{node: i, kind: ended, err: err}
			}()
		}
		if ctx.Err() != nil {
			w.interrupt()
		}
		if running == 0 {
			// Nothing runs and nothing more can start: either every node
			// ended, or the rest wait on nodes that will never end
			// (interrupted).
			w.interrupt()
			return w.results, nil
		}
		var ev event
		select {
		case ev = <-events:
		case <-ctx.Done():
			// Go round: interrupt what has not started, then wait for
			// the nodes running.
			ev = <-events
		}
		switch ev.kind {
		case yielded:
			if holding[ev.node] {
				holding[ev.node] = false
				slots--
			}
		case settled:
			w.settle(ev.node)
		case ended:
			if holding[ev.node] {
				holding[ev.node] = false
				slots--
			}
			running--
			w.end(ev.node, ev.err, "")
		}
	}
}

type walk struct {
	g                       *Graph
	pending                 []int
	ready                   readyQueue
	started, done, settledN []bool
	results                 map[string]error
}

// settle satisfies the Order edges waiting on i.
func (w *walk) settle(i int) {
	if w.settledN[i] {
		return
	}
	w.settledN[i] = true
	for _, e := range w.g.dependents[i] {
		if e.kind == Order {
			w.satisfy(e.node)
		}
	}
}

func (w *walk) satisfy(i int) {
	w.pending[i]--
	if w.pending[i] == 0 && !w.done[i] {
		heap.Push(&w.ready, i)
	}
}

// end records i's outcome and passes it on: its Reference dependents run
// once it succeeded, and are not started when it did not. failed is the
// node whose failure i inherits ("" when i ran).
func (w *walk) end(i int, err error, failed string) {
	w.done[i] = true
	w.results[w.g.ids[i]] = err
	w.settle(i)
	if failed == "" {
		failed = w.g.ids[i]
	}
	for _, e := range w.g.dependents[i] {
		if e.kind != Reference || w.done[e.node] {
			continue
		}
		if err == nil {
			w.satisfy(e.node)
			continue
		}
		w.end(e.node, &NotStarted{Dep: w.g.ids[i], Failed: failed}, failed)
	}
}

// interrupt ends every node not started, as interrupted.
func (w *walk) interrupt() {
	for i := range w.g.ids {
		if !w.started[i] && !w.done[i] {
			w.done[i] = true
			w.results[w.g.ids[i]] = &NotStarted{}
		}
	}
}

// FormatCycle writes a cycle as Cycle returns it: a → b → a.
func FormatCycle(c []string) string {
	s := ""
	for _, id := range c {
		s += id + " → "
	}
	return s + c[0]
}

// readyQueue hands out the ready nodes lowest index first.
type readyQueue []int

func (q readyQueue) Len() int           { return len(q) }
func (q readyQueue) Less(i, j int) bool { return q[i] < q[j] }
func (q readyQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *readyQueue) Push(x any)        { *q = append(*q, x.(int)) }
func (q *readyQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
