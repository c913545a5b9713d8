package apply

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connform/auth"
	"connform/config"
	"connform/plan"
	"connform/state"
)

// planWithTokens plans as the CLI does: with the token store's grants.
func planWithTokens(t *testing.T, cfg *config.Config, st *state.State, opt Options) *plan.Plan {
	t.Helper()
	p, err := plan.Make(plan.Input{Config: cfg, State: st, Now: opt.Now(), LibraryFile: opt.LibraryFile,
		Grant: func(key string) *auth.Grant { g, _ := opt.Store.Get(key); return g }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPlanPromiseFewerScopes: a provider grants fewer scopes than asked.
// The plan announces a sign-in with the reason scopes_not_granted; apply,
// from a saved plan or not, signs in as announced instead of failing on a
// refused refresh, and once the org accepted the narrower token no later
// plan asks again (no endless sign-in loop).
func TestPlanPromiseFewerScopes(t *testing.T) {
	for _, saved := range []bool{false, true} {
		t.Run(map[bool]string{false: "in memory", true: "saved plan"}[saved], func(t *testing.T) {
			e, conns := setup(t, 1)
			e.SetGrantFewerScopes(true)
			c := conns[0]
			c.Scopes = []string{c.URL + "/user_impersonation", c.URL + "/Extra.Read", "offline_access"}
			cfg := &config.Config{Connections: conns, Hash: "promise"}
			opt := options(t, e, true)
			// A login: a narrower token that no org has accepted yet.
			if _, _, err := Token(context.Background(), c, opt); err != nil {
				t.Fatal(err)
			}
			st := state.New("promise")

			p := planWithTokens(t, cfg, st, opt)
			a := p.Changes[0].Auth
			if a.Kind != plan.AuthInteractive || a.ReasonCode != auth.ReasonScopesNotGranted ||
				!strings.Contains(a.Reason, "the provider granted fewer scopes than requested: "+c.URL+"/Extra.Read") {
				t.Fatalf("plan says %v %s (%q), want an interactive sign-in for scopes not granted", a.Kind, a.ReasonCode, a.Reason)
			}
			if saved {
				path := filepath.Join(t.TempDir(), "update.plan")
				if err := plan.WriteFile(path, p); err != nil {
					t.Fatal(err)
				}
				var err error
				if p, err = plan.ReadFile(path); err != nil {
					t.Fatal(err)
				}
			}
			var ev events
			opt.Events = ev.add
			res, err := Run(context.Background(), p, cfg, st, &countingWriter{}, opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Failed()) > 0 || res.Interactive != 1 {
				t.Fatalf("apply: %v, %d sign-ins; want the announced sign-in and success", res.Failed(), res.Interactive)
			}
			if n := len(ev.of(EventPlanNotKept)); n != 0 {
				t.Errorf("apply kept the plan, yet said %d time(s) it could not", n)
			}
			for i := range 2 {
				p := planWithTokens(t, cfg, st, opt)
				if p.HasChanges() {
					t.Fatalf("plan %d after the sign-in: %+v; the accepted token must not be asked for again", i+2, p.Changes[0])
				}
				res := applied(t, cfg, st, opt)
				if res.Interactive != 0 {
					t.Fatalf("apply %d signed in again", i+2)
				}
			}
			if got := e.Stats().SignIns; got != 2 {
				t.Errorf("%d sign-ins at the emulator, want 2 (login and the announced one)", got)
			}
		})
	}
}

// TestPlanPromiseRefreshPerResource: with a provider whose refresh tokens
// serve one org each, the second org's promised silent refresh is refused
// with invalid_scope; apply says the plan could not be kept and signs that
// org in within the same run, and the next plan, having learnt it from the
// token store, predicts one sign-in per org.
func TestPlanPromiseRefreshPerResource(t *testing.T) {
	e, conns := setup(t, 2)
	e.SetRefreshPerResource(true)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	var ev events
	opt.Events = ev.add
	st := state.New("per-resource")
	p := planWithTokens(t, cfg, st, opt)
	if s := p.Summarize(); s.Interactive != 1 {
		t.Fatalf("first plan: %d interactive sign-ins, want 1 (nothing known yet)", s.Interactive)
	}
	res, err := Run(context.Background(), p, cfg, st, &countingWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed()) > 0 || res.Interactive != 2 {
		t.Fatalf("apply: %v, %d sign-ins; want both orgs signed in", res.Failed(), res.Interactive)
	}
	notKept := ev.of(EventPlanNotKept)
	if len(notKept) != 1 || notKept[0].Addr != "connection.org02" || !strings.Contains(notKept[0].Message, "refresh tokens serve one org each") {
		t.Errorf("plan-not-kept events %+v, want one for connection.org02 saying why", notKept)
	}
	g, _ := opt.Store.Get(plan.TokenKey(conns[0]))
	if g.RefreshPerResource == "" {
		t.Fatal("the token store does not remember that this provider's refresh tokens do not span orgs")
	}

	// The next plan, with every token gone but the store's knowledge kept,
	// predicts one sign-in per org.
	for _, at := range g.Access {
		at.Token, at.RefreshToken = "", ""
		at.Expiry = at.Expiry.AddDate(-1, 0, 0)
	}
	if err := opt.Store.Put(plan.TokenKey(conns[0]), g); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		c.Description = "changed"
	}
	if s := planWithTokens(t, cfg, st, opt).Summarize(); s.Interactive != 2 {
		t.Errorf("next plan: %d interactive sign-ins, want one per org", s.Interactive)
	}
}

// TestRunRejectedTokenIsDropped: an access token the org refuses (401) is
// dropped from the store, a new one is had silently once, and only when
// that cannot be done does the connection fail; no run reuses the refused
// token.
func TestRunRejectedTokenIsDropped(t *testing.T) {
	for _, refreshable := range []bool{true, false} {
		t.Run(map[bool]string{true: "refreshed once", false: "no silent way: fails"}[refreshable], func(t *testing.T) {
			e, cfg, st, opt := signedInOnce(t)
			c := cfg.Connections[0]
			key := plan.TokenKey(c)
			g, _ := opt.Store.Get(key)
			// A token the org refuses, though the store thinks it valid.
			g.Access[c.URL].Token, g.Access[c.URL].Expiry = "refused-by-the-org", e.Now().Add(time.Hour)
			if !refreshable {
				g.RefreshToken = ""
			}
			if err := opt.Store.Put(key, g); err != nil {
				t.Fatal(err)
			}
			res := applied(t, cfg, st, opt)
			after, _ := opt.Store.Get(key)
			if at := after.Access[c.URL]; at != nil && at.Token == "refused-by-the-org" {
				t.Error("the refused token is still stored")
			}
			if refreshable {
				if len(res.Failed()) > 0 || res.Interactive != 0 {
					t.Fatalf("want a silent recovery, got %v, %d sign-ins", res.Failed(), res.Interactive)
				}
				return
			}
			failed := res.Failed()
			if len(failed) != 1 || !strings.Contains(failed[0].Err.Error(), "the org refused the token, which connform dropped; a new one needs an interactive sign-in") {
				t.Fatalf("want a failure saying a sign-in is needed, got %+v", res.Outcomes)
			}
			if e.Stats().SignIns != 1 {
				t.Error("a sign-in happened that the plan did not announce")
			}
		})
	}
}
