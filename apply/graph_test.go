package apply

import (
	"context"
	"strings"
	"testing"

	"connform/config"
	"connform/state"
)

// ghost is c at connection.ghost, for a resource the tenant does not know:
// Entra refuses its token (AADSTS500011) after the sign-in.
func ghost(c *config.Connection) *config.Connection {
	bad := *c
	bad.Name, bad.Addr = "ghost", "connection.ghost"
	bad.URL = "http://127.0.0.1:1"
	bad.Scopes = []string{"http://127.0.0.1:1/user_impersonation", "offline_access"}
	return &bad
}

// A change that refers to one that failed does not start, and says which;
// a change only ordered after it still runs. ghost comes first in the plan,
// so the plan gives it the account's one sign-in and org01 and org02 are
// covered by it: org02, which only waited for that sign-in, gets its own
// when ghost fails, as it did before references existed.
func TestRunReferenceToFailedChangeDoesNotStart(t *testing.T) {
	e, conns := setup(t, 2)
	cfg := &config.Config{Connections: []*config.Connection{conns[0], conns[1], ghost(conns[1])}}
	opt := options(t, e, true)
	p := makePlan(t, cfg, nil, opt)
	for _, ch := range p.Changes {
		if ch.Addr == "connection.org01" {
			// The seam a later resource type uses: org01 reads ghost's
			// result.
			ch.DependsOn = []string{"connection.ghost"}
		}
	}
	st := state.New("test")
	res, err := Run(context.Background(), p, cfg, st, &countingWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range res.Failed() {
		got[o.Addr] = o.Err.Error()
	}
	if want := "connection.org01: not started: depends on connection.ghost, which failed"; got["connection.org01"] != want {
		t.Errorf("org01: %q, want %q", got["connection.org01"], want)
	}
	if _, failed := got["connection.org02"]; failed || st.Lookup("connection.org02") == nil {
		t.Errorf("org02, which refers to nothing, should be applied: %v", got)
	}
	if st.Lookup("connection.org01") != nil {
		t.Error("org01 was recorded though it did not start")
	}
}

// A plan whose dependencies cannot be walked is refused before any work.
func TestRunRefusesCyclicPlan(t *testing.T) {
	e, conns := setup(t, 2)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	p := makePlan(t, cfg, nil, opt)
	p.Changes[0].DependsOn = []string{p.Changes[1].Addr}
	p.Changes[1].DependsOn = []string{p.Changes[0].Addr}
	w := &countingWriter{}
	_, err := Run(context.Background(), p, cfg, state.New("test"), w, opt)
	if err == nil || !strings.Contains(err.Error(), "its dependencies form a cycle") {
		t.Fatalf("error %v, want a cycle refused", err)
	}
	if len(w.entries) != 0 {
		t.Errorf("recorded %d entries for a refused plan", len(w.entries))
	}
}
