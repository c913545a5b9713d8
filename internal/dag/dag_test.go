package dag

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

type edgeSpec struct {
	from, to string
	kind     EdgeKind
}

func build(t *testing.T, nodes []string, edges []edgeSpec) *Graph {
	t.Helper()
	g := New()
	for _, n := range nodes {
		g.Add(n)
	}
	for _, e := range edges {
		if err := g.Connect(e.from, e.to, e.kind); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// recorder runs nodes one at a time and notes the order they ran in; fail
// lists nodes whose work fails.
type recorder struct {
	mu   sync.Mutex
	ran  []string
	fail map[string]bool
}

func (r *recorder) fn(_ context.Context, id string, _ *Step) error {
	r.mu.Lock()
	r.ran = append(r.ran, id)
	r.mu.Unlock()
	if r.fail[id] {
		return errors.New("boom")
	}
	return nil
}

func TestWalk(t *testing.T) {
	tests := []struct {
		name  string
		nodes []string
		edges []edgeSpec
		fail  []string
		// ran is the order the nodes ran in (parallelism 1); errs the
		// error text of each node that did not succeed.
		ran  []string
		errs map[string]string
	}{{
		name:  "independent nodes run in the order added",
		nodes: []string{"c", "a", "b"},
		ran:   []string{"c", "a", "b"},
	}, {
		name:  "a node runs after what it waits for",
		nodes: []string{"app_user", "secret", "app"},
		edges: []edgeSpec{{"app_user", "secret", Reference}, {"secret", "app", Reference}},
		ran:   []string{"app", "secret", "app_user"},
	}, {
		name:  "a failed reference stops its dependents, naming it",
		nodes: []string{"app", "secret", "user", "other"},
		edges: []edgeSpec{{"secret", "app", Reference}, {"user", "secret", Reference}},
		fail:  []string{"app"},
		ran:   []string{"app", "other"},
		errs: map[string]string{
			"app":    "boom",
			"secret": "not started: depends on app, which failed",
			"user":   "not started: depends on secret, which did not start because app failed",
		},
	}, {
		name:  "an order edge runs its dependent after a failure",
		nodes: []string{"cover", "covered"},
		edges: []edgeSpec{{"covered", "cover", Order}},
		fail:  []string{"cover"},
		ran:   []string{"cover", "covered"},
		errs:  map[string]string{"cover": "boom"},
	}, {
		name:  "the stronger of two edges between the same nodes holds",
		nodes: []string{"a", "b"},
		edges: []edgeSpec{{"b", "a", Order}, {"b", "a", Reference}},
		fail:  []string{"a"},
		ran:   []string{"a"},
		errs:  map[string]string{"a": "boom", "b": "not started: depends on a, which failed"},
	}, {
		name:  "a node with an order and a failed reference does not start",
		nodes: []string{"a", "b", "c"},
		edges: []edgeSpec{{"c", "a", Order}, {"c", "b", Reference}},
		fail:  []string{"b"},
		ran:   []string{"a", "b"},
		errs:  map[string]string{"b": "boom", "c": "not started: depends on b, which failed"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(t, tt.nodes, tt.edges)
			r := &recorder{fail: map[string]bool{}}
			for _, f := range tt.fail {
				r.fail[f] = true
			}
			res, err := g.Walk(context.Background(), 1, r.fn)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.ran, tt.ran) {
				t.Errorf("ran %v, want %v", r.ran, tt.ran)
			}
			if len(res) != len(tt.nodes) {
				t.Errorf("%d results for %d nodes: %v", len(res), len(tt.nodes), res)
			}
			for _, n := range tt.nodes {
				got := ""
				if res[n] != nil {
					got = res[n].Error()
				}
				if got != tt.errs[n] {
					t.Errorf("%s: error %q, want %q", n, got, tt.errs[n])
				}
			}
		})
	}
}

func TestCycle(t *testing.T) {
	tests := []struct {
		name  string
		edges []edgeSpec
		want  string
	}{
		{"none", []edgeSpec{{"a", "b", Reference}, {"b", "c", Order}, {"a", "c", Reference}}, ""},
		{"two nodes", []edgeSpec{{"a", "b", Reference}, {"b", "a", Order}}, "a b"},
		{"three nodes behind a tail", []edgeSpec{{"a", "b", Order}, {"b", "c", Reference}, {"c", "d", Reference}, {"d", "b", Reference}}, "b c d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := build(t, []string{"a", "b", "c", "d"}, tt.edges)
			if got := strings.Join(g.Cycle(), " "); got != tt.want {
				t.Errorf("cycle %q, want %q", got, tt.want)
			}
			ran := 0
			_, err := g.Walk(context.Background(), 1, func(context.Context, string, *Step) error {
				ran++
				return nil
			})
			if tt.want != "" && ran > 0 {
				t.Errorf("%d nodes of a cyclic graph ran", ran)
			}
			if (err != nil) != (tt.want != "") {
				t.Errorf("walk error %v, want one: %v", err, tt.want != "")
			}
		})
	}
}

func TestConnectRefusesUnknownAndSelf(t *testing.T) {
	g := build(t, []string{"a"}, nil)
	for _, e := range []edgeSpec{{"a", "a", Order}, {"a", "b", Reference}, {"b", "a", Order}} {
		if err := g.Connect(e.from, e.to, e.kind); err == nil {
			t.Errorf("%s → %s accepted", e.from, e.to)
		}
	}
}

// A long chain must neither exhaust the stack in the cycle check nor run
// out of order.
func TestLongChain(t *testing.T) {
	const n = 20000
	g := New()
	for i := range n {
		g.Add(fmt.Sprint(i))
		if i > 0 {
			if err := g.Connect(fmt.Sprint(i), fmt.Sprint(i-1), Reference); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := &recorder{}
	if _, err := g.Walk(context.Background(), 4, r.fn); err != nil {
		t.Fatal(err)
	}
	for i, id := range r.ran {
		if id != fmt.Sprint(i) {
			t.Fatalf("step %d ran %s", i, id)
		}
	}
}

// No more than parallelism nodes work at once; a node that yields makes
// room for another.
func TestWalkParallelismBound(t *testing.T) {
	for _, tt := range []struct {
		parallelism int
		yield       bool
		want        int
	}{{1, false, 1}, {3, false, 3}, {2, true, 8}} {
		t.Run(fmt.Sprint(tt.parallelism, tt.yield), func(t *testing.T) {
			g := New()
			for i := range 8 {
				g.Add(fmt.Sprint(i))
			}
			var mu sync.Mutex
			working, most := 0, 0
			// Every node waits until the expected number work at once,
			// or until all have started: a walk that let more work would
			// be seen, one that let fewer would hang the test.
			gate := make(chan struct{})
			var once sync.Once
			arrived := 0
			_, err := g.Walk(context.Background(), tt.parallelism, func(_ context.Context, _ string, s *Step) error {
				mu.Lock()
				working++
				arrived++
				most = max(most, working)
				if working == tt.want || arrived == 8 {
					once.Do(func() { close(gate) })
				}
				mu.Unlock()
				if tt.yield {
					s.Yield()
				}
				<-gate
				mu.Lock()
				working--
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if most != tt.want {
				t.Errorf("at most %d at work, want %d", most, tt.want)
			}
		})
	}
}

// Settle lets an Order dependent start while the node still works: the
// covered connection need not wait for the covering one's whole change.
func TestSettleReleasesOrderDependents(t *testing.T) {
	g := build(t, []string{"cover", "covered", "referrer"}, []edgeSpec{{"covered", "cover", Order}, {"referrer", "cover", Reference}})
	coveredRan := make(chan struct{})
	var referrerEarly bool
	res, err := g.Walk(context.Background(), 3, func(_ context.Context, id string, s *Step) error {
		switch id {
		case "cover":
			s.Settle()
			<-coveredRan // would hang if covered waited for the end
		case "covered":
			close(coveredRan)
		case "referrer":
			select {
			case <-coveredRan:
			default:
				referrerEarly = true
			}
		}
		return nil
	})
	if err != nil || res["covered"] != nil || res["referrer"] != nil {
		t.Fatal(err, res)
	}
	if referrerEarly {
		t.Error("a Reference dependent started before its node ended")
	}
}

// After ctx is done nothing more starts; what runs finishes, and the rest
// is reported as interrupted, dependents included.
func TestWalkCancellation(t *testing.T) {
	g := build(t, []string{"a", "b", "c", "d"}, []edgeSpec{{"d", "a", Reference}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran []string
	res, err := g.Walk(ctx, 1, func(_ context.Context, id string, _ *Step) error {
		ran = append(ran, id)
		if id == "a" {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ran, []string{"a"}) {
		t.Errorf("ran %v after the interrupt", ran)
	}
	for _, id := range []string{"b", "c", "d"} {
		var ns *NotStarted
		if !errors.As(res[id], &ns) || ns.Dep != "" {
			t.Errorf("%s: %v, want not started (interrupted)", id, res[id])
		}
	}
	if res["a"] != nil {
		t.Errorf("a: %v", res["a"])
	}
}

// BenchmarkConnectWide is one node waiting for many, as a hostile plan file
// may ask: connecting must stay linear in the edges.
func BenchmarkConnectWide(b *testing.B) {
	const n = 100000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	for b.Loop() {
		g := New()
		g.Add("wide")
		for _, id := range ids {
			g.Add(id)
			if err := g.Connect("wide", id, Reference); err != nil {
				b.Fatal(err)
			}
		}
		if g.Cycle() != nil {
			b.Fatal("cycle")
		}
	}
}
