package plan

import (
	"fmt"

	"connform/internal/dag"
)

// Graph is the plan's order of work, the one apply walks and a saved plan
// is checked against: a node per change (no-ops included, so that an
// ordering through an unchanged resource still holds), and an edge per
// dependency the plan declares.
//
// Two kinds of dependency exist. A change covered by another's sign-in
// (Auth.CoveredBy) only waits for that sign-in to settle, and runs however
// it ended: its own token decision then applies, as if it had not been
// covered. A reference (DependsOn: a connection that names the client ID
// of an application block) is a true need: the change does not start
// when what it refers to failed.
//
// A delete runs in the reverse order of a create, as in Terraform: a
// resource that refers to another stops existing before the one it refers
// to is deleted, so nothing is ever left referring to something gone.
func (p *Plan) Graph() (*dag.Graph, error) {
	g := dag.New()
	actions := make(map[string]Action, len(p.Changes))
	for _, ch := range p.Changes {
		g.Add(ch.Addr)
		actions[ch.Addr] = ch.Action
	}
	for _, ch := range p.Changes {
		if by := ch.Auth.CoveredBy; by != "" {
			if err := g.Connect(ch.Addr, by, dag.Order); err != nil {
				return nil, fmt.Errorf("%s is covered by the sign-in of %s: %v", ch.Addr, by, err)
			}
		}
		for _, dep := range ch.DependsOn {
			from, to := ch.Addr, dep
			if ch.Action == Delete {
				from, to = dep, ch.Addr
			}
			if _, ok := actions[dep]; !ok {
				return nil, fmt.Errorf("%s depends on %s, which is not in the plan", ch.Addr, dep)
			}
			if err := g.Connect(from, to, dag.Reference); err != nil {
				return nil, fmt.Errorf("%s depends on %s: %v", ch.Addr, dep, err)
			}
		}
	}
	if c := g.Cycle(); c != nil {
		return nil, fmt.Errorf("its dependencies form a cycle: %s", dag.FormatCycle(c))
	}
	return g, nil
}
