package apply

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"connform/auth"
	"connform/config"
	"connform/emulator"
	"connform/plan"
	"connform/state"
)

// applied runs one apply of cfg and returns its result.
func applied(t *testing.T, cfg *config.Config, st *state.State, opt Options) *Result {
	t.Helper()
	res, err := Run(context.Background(), makePlan(t, cfg, st, opt), cfg, st, &countingWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// signedInOnce applies one org so that the store holds a refresh token,
// then moves an hour on so the access token has expired and a change to
// the connection must get a new token.
func signedInOnce(t *testing.T) (*emulator.Emulator, *config.Config, *state.State, Options) {
	t.Helper()
	e, conns := setup(t, 1)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	opt.Flow.Sleep = func(context.Context, time.Duration) error { return nil }
	st := state.New("test")
	if res := applied(t, cfg, st, opt); len(res.Failed()) > 0 || e.Stats().SignIns != 1 {
		t.Fatalf("first apply: %v, %d sign-ins", res.Failed(), e.Stats().SignIns)
	}
	e.Advance(time.Hour)
	conns[0].Description = "changed"
	return e, cfg, st, opt
}

// TestRefreshSignInAgain: a refresh refused with a "sign in again" or
// "interaction needed" code drops the refresh token and signs in
// interactively; with input disabled it fails naming the connection and
// the reason, and the dead token is gone either way.
func TestRefreshSignInAgain(t *testing.T) {
	for _, tc := range []struct {
		kind emulator.FaultKind
		code string
	}{
		{emulator.FaultExpiredRefreshToken, "AADSTS700082"},
		{emulator.FaultRevoked, "AADSTS70008"},
		{emulator.FaultConsentRequired, "AADSTS65001"},
	} {
		t.Run(string(tc.kind)+"/interactive", func(t *testing.T) {
			e, cfg, st, opt := signedInOnce(t)
			key := plan.TokenKey(cfg.Connections[0])
			before, _ := opt.Store.Get(key)
			e.AddFault(emulator.Fault{Endpoint: "token", Count: 1, Kind: tc.kind})
			res := applied(t, cfg, st, opt)
			if len(res.Failed()) > 0 {
				t.Fatal(res.Failed()[0].Err)
			}
			if got := e.Stats().SignIns; got != 2 || res.Interactive != 1 {
				t.Errorf("emulator sign-ins %d (want 2), apply counted %d (want 1)", got, res.Interactive)
			}
			after, _ := opt.Store.Get(key)
			if after.RefreshToken == "" || after.RefreshToken == before.RefreshToken {
				t.Error("the store should hold the new sign-in's refresh token")
			}
		})
		t.Run(string(tc.kind)+"/input=false", func(t *testing.T) {
			e, cfg, st, opt := signedInOnce(t)
			opt.Interactive = false
			e.AddFault(emulator.Fault{Endpoint: "token", Count: 1, Kind: tc.kind})
			res := applied(t, cfg, st, opt)
			failed := res.Failed()
			if len(failed) != 1 {
				t.Fatalf("want the connection to fail, got %+v", res.Outcomes)
			}
			msg := failed[0].Err.Error()
			for _, want := range []string{"connection.org01 needs an interactive sign-in", tc.code, "-input=false"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if e.Stats().SignIns != 1 {
				t.Error("a sign-in happened with input disabled")
			}
			g, _ := opt.Store.Get(plan.TokenKey(cfg.Connections[0]))
			if g.RefreshToken != "" {
				t.Error("the refused refresh token was kept")
			}
		})
	}
}

// TestRefreshTransient: 429, 5xx and temporarily_unavailable are retried
// (honouring Retry-After) and never turn into a sign-in; when they last,
// the connection fails saying the service is unavailable and the refresh
// token is kept for the next run.
func TestRefreshTransient(t *testing.T) {
	for _, kind := range []emulator.FaultKind{
		emulator.FaultTooManyRequests, emulator.FaultServerError,
		emulator.FaultUnavailable, emulator.FaultTemporarilyUnavailable,
	} {
		t.Run(string(kind)+"/passes", func(t *testing.T) {
			e, cfg, st, opt := signedInOnce(t)
			var mu sync.Mutex
			var waits []time.Duration
			opt.Flow.Sleep = func(_ context.Context, d time.Duration) error {
				mu.Lock()
				defer mu.Unlock()
				waits = append(waits, d)
				return nil
			}
			e.AddFault(emulator.Fault{Endpoint: "token", Count: 2, Kind: kind, Delay: 7 * time.Second})
			res := applied(t, cfg, st, opt)
			if len(res.Failed()) > 0 {
				t.Fatal(res.Failed()[0].Err)
			}
			if e.Stats().SignIns != 1 || res.Interactive != 0 {
				t.Errorf("a transient failure led to a sign-in (%d at the emulator)", e.Stats().SignIns)
			}
			if len(waits) != 2 {
				t.Errorf("waited %v, want two retries", waits)
			}
			if kind == emulator.FaultTooManyRequests && waits[0] != 7*time.Second {
				t.Errorf("waited %v, want Retry-After's 7s", waits[0])
			}
		})
	}
	t.Run("lasting", func(t *testing.T) {
		e, cfg, st, opt := signedInOnce(t)
		e.AddFault(emulator.Fault{Endpoint: "token", Kind: emulator.FaultUnavailable})
		res := applied(t, cfg, st, opt)
		failed := res.Failed()
		if len(failed) != 1 || !strings.Contains(failed[0].Err.Error(), "connection.org01: the sign-in service is temporarily unavailable") {
			t.Fatalf("want a transient failure message, got %+v", res.Outcomes)
		}
		if e.Stats().SignIns != 1 {
			t.Error("a lasting outage led to a sign-in")
		}
		if g, _ := opt.Store.Get(plan.TokenKey(cfg.Connections[0])); g.RefreshToken == "" {
			t.Error("the refresh token was dropped for a transient failure")
		}
	})
}

// TestExpiredSecret: a client-credentials connection whose secret expired
// fails with the configuration message, not a prompt.
func TestExpiredSecret(t *testing.T) {
	e, conns := setup(t, 1)
	info := e.Info()
	conf, _ := info.App(emulator.ConfidentialApp)
	c := conns[0]
	c.ClientID, c.ClientSecret, c.GrantType = conf.ClientID, conf.ClientSecret, config.GrantClientCredentials
	c.Scopes = []string{c.URL + "/.default"}
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	e.AddFault(emulator.Fault{Endpoint: "token", ClientID: conf.ClientID, Kind: emulator.FaultExpiredSecret})
	res := applied(t, cfg, state.New("test"), opt)
	failed := res.Failed()
	if len(failed) != 1 {
		t.Fatalf("want a failure, got %+v", res.Outcomes)
	}
	msg := failed[0].Err.Error()
	for _, want := range []string{"connection.org01: the client secret has expired (AADSTS7000222)", "set client_secret", "Correlation id: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	var ae *auth.Error
	if !errors.As(failed[0].Err, &ae) || !ae.Has(7000222) {
		t.Errorf("the auth.Error is not reachable from %v", failed[0].Err)
	}
	if e.Stats().SignIns != 0 {
		t.Error("a configuration error led to a sign-in")
	}
}

// deviceUser approves every pending device code on each poll wait, as a
// person at another device would, and moves the emulator's clock.
func deviceUser(t *testing.T, e *emulator.Emulator) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		for _, code := range e.PendingUserCodes() {
			if err := emulator.ApproveDeviceCode(ctx, nil, e.Info().Authority+"/devicelogin", code); err != nil {
				t.Errorf("approving %s: %v", code, err)
			}
		}
		e.Advance(d)
		return nil
	}
}

// events collects apply's events.
type events struct {
	mu  sync.Mutex
	all []Event
}

func (ev *events) add(e Event) { ev.mu.Lock(); ev.all = append(ev.all, e); ev.mu.Unlock() }

func (ev *events) of(k EventKind) []Event {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var out []Event
	for _, e := range ev.all {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// TestDeviceCodeGrant: grant_type = "device_code" shows the code and page
// once for two orgs of one account, and never opens a browser.
func TestDeviceCodeGrant(t *testing.T) {
	e, conns := setup(t, 2)
	for _, c := range conns {
		c.GrantType = config.GrantDeviceCode
	}
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	opt.Flow.Sleep = deviceUser(t, e)
	ev := &events{}
	opt.Events = ev.add
	res := applied(t, cfg, state.New("test"), opt)
	if len(res.Failed()) > 0 {
		t.Fatal(res.Failed()[0].Err)
	}
	shown := ev.of(EventDeviceCode)
	if len(shown) != 1 || !strings.Contains(shown[0].Message, "/devicelogin") {
		t.Fatalf("device code events %+v, want one naming the verification page", shown)
	}
	if e.Stats().SignIns != 1 || res.Interactive != 1 || len(opt.Flow.Opener.(*auth.RecordingOpener).Opened()) != 0 {
		t.Errorf("sign-ins %d, interactive %d, browser opened %v", e.Stats().SignIns, res.Interactive, opt.Flow.Opener.(*auth.RecordingOpener).Opened())
	}
}

// TestNoBrowserFallback: when the browser cannot be opened, a public
// client falls back to the device flow; a confidential client keeps the
// printed URL (and here times out, as nobody opens it).
func TestNoBrowserFallback(t *testing.T) {
	broken := &auth.RecordingOpener{OnOpen: func(string) error { return errors.New("xdg-open: executable file not found") }}
	t.Run("public client", func(t *testing.T) {
		e, conns := setup(t, 1)
		opt := options(t, e, true)
		opt.Flow.Opener = broken
		opt.Flow.Sleep = deviceUser(t, e)
		ev := &events{}
		opt.Events = ev.add
		res := applied(t, &config.Config{Connections: conns}, state.New("test"), opt)
		if len(res.Failed()) > 0 {
			t.Fatal(res.Failed()[0].Err)
		}
		if len(ev.of(EventDeviceCode)) != 1 || res.Interactive != 1 {
			t.Errorf("want one device code sign-in, got events %+v", ev.all)
		}
	})
	t.Run("confidential client", func(t *testing.T) {
		e, conns := setup(t, 1)
		conf, _ := e.Info().App(emulator.ConfidentialApp)
		conns[0].ClientID, conns[0].ClientSecret = conf.ClientID, conf.ClientSecret
		opt := options(t, e, true)
		opt.Flow.Opener = broken
		opt.Flow.Timeout = 100 * time.Millisecond
		var offered string
		opt.Flow.Notify = func(u string) { offered = u }
		ev := &events{}
		opt.Events = ev.add
		res := applied(t, &config.Config{Connections: conns}, state.New("test"), opt)
		failed := res.Failed()
		if len(failed) != 1 || !strings.Contains(failed[0].Err.Error(), "no sign-in completed") {
			t.Fatalf("want a timeout waiting for the printed URL, got %+v", res.Outcomes)
		}
		if offered == "" || len(ev.of(EventDeviceCode)) != 0 {
			t.Errorf("URL offered %v, device events %d; want the URL and no device flow", offered != "", len(ev.of(EventDeviceCode)))
		}
	})
}
