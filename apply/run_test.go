package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connform/auth"
	"connform/config"
	"connform/dynamics"
	"connform/emulator"
	"connform/library"
	"connform/plan"
	"connform/state"
)

// countingWriter keeps every entry apply records, in order.
type countingWriter struct {
	mu      sync.Mutex
	entries []state.Entry
}

func (w *countingWriter) Record(es ...state.Entry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.entries = append(w.entries, es...)
	return nil
}

// setup starts an emulator with n orgs and returns one connection per org,
// all behind the public app and the same user.
func setup(t *testing.T, n int) (*emulator.Emulator, []*config.Connection) {
	t.Helper()
	e, err := emulator.Start(emulator.Options{Orgs: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	info := e.Info()
	app, _ := info.App(emulator.PublicApp)
	var conns []*config.Connection
	for i, o := range info.Orgs {
		org, err := dynamics.ParseOrgURL(o.URL)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, &config.Connection{
			Name: fmt.Sprintf("org%02d", i+1), Addr: fmt.Sprintf("connection.org%02d", i+1),
			URL: org.Root, TenantID: info.TenantID, ClientID: app.ClientID,
			AuthorizationURL: info.AuthorizationURL, TokenURL: info.TokenURL,
			GrantType: config.GrantAuthorizationCode, Redirect: "http://localhost",
			Scopes: org.DelegatedScopes(), Prompt: "select_account",
		})
	}
	return e, conns
}

func options(t testing.TB, e *emulator.Emulator, interactive bool) Options {
	dir := t.TempDir()
	browser := &auth.RecordingOpener{OnOpen: func(u string) error {
		go emulator.CompleteSignIn(context.Background(), nil, u)
		return nil
	}}
	return Options{
		Store:         auth.NewMemoryStore(),
		Flow:          &auth.Flow{Opener: browser, Timeout: time.Minute, Now: e.Now},
		Dynamics:      &dynamics.Client{Sleep: func(context.Context, time.Duration) error { return nil }},
		Interactive:   interactive,
		Parallelism:   4,
		Now:           e.Now,
		LibraryFormat: "json",
		LibraryFile:   plan.DefaultLibraryFile(dir, "json", library.FileName),
		LibraryDir:    dir,
	}
}

func makePlan(t testing.TB, cfg *config.Config, st *state.State, opt Options) *plan.Plan {
	t.Helper()
	p, err := plan.Make(plan.Input{Config: cfg, State: st, Now: opt.Now(), LibraryFile: opt.LibraryFile})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunTenOrgsOneSignIn(t *testing.T) {
	e, conns := setup(t, 10)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	st := state.New("test")
	w := &countingWriter{}

	var mu sync.Mutex
	var signedIn []string
	opt.Events = func(ev Event) {
		if ev.Kind == EventSigningIn {
			mu.Lock()
			signedIn = append(signedIn, ev.Addr)
			mu.Unlock()
		}
	}
	p := makePlan(t, cfg, nil, opt)
	var predicted []string
	for _, ch := range p.Changes {
		if ch.Auth.Kind == plan.AuthInteractive {
			predicted = append(predicted, ch.Addr)
		}
	}
	res, err := Run(context.Background(), p, cfg, st, w, opt)
	if err != nil {
		t.Fatal(err)
	}
	if failed := res.Failed(); len(failed) > 0 {
		t.Fatalf("failed: %v", failed[0].Err)
	}
	// The sign-in happens where the plan said, not wherever a goroutine
	// won the race.
	if !slices.Equal(signedIn, predicted) || len(predicted) != 1 {
		t.Fatalf("signed in for %v, plan predicted %v", signedIn, predicted)
	}
	if got := e.Stats().SignIns; got != 1 || res.Interactive != 1 {
		t.Fatalf("first apply: %d browser sign-ins at the emulator (%d counted by apply), want 1", got, res.Interactive)
	}
	if len(st.Connections) != 10 {
		t.Fatalf("state holds %d connections, want 10", len(st.Connections))
	}
	// Recorded as each connection finishes, its library file announced
	// before it was written: a crash loses at most the connections in
	// flight, and leaves no file connform cannot account for.
	announced := map[string]string{}
	puts := 0
	for _, e := range w.entries {
		switch e.Op {
		case state.OpWriting:
			announced[e.Addr] = e.Path
		case state.OpPut:
			puts++
			if announced[e.Conn.Addr] != e.Conn.LibraryPath {
				t.Errorf("%s recorded with library file %s, announced before writing: %q", e.Conn.Addr, e.Conn.LibraryPath, announced[e.Conn.Addr])
			}
		}
	}
	if puts != 10 || len(w.entries) != 20 {
		t.Fatalf("recorded %d entries with %d connections, want 10 announced writes and 10 connections", len(w.entries), puts)
	}
	for _, r := range st.Connections {
		if r.OrganizationID == "" || r.Account != emulator.TestUser || r.LibraryHash == "" {
			t.Fatalf("%s: WhoAmI facts or library entry missing: %+v", r.Addr, r)
		}
		if st, _ := library.Check(r.LibraryPath, r.LibraryHash); st != library.StatusOK {
			t.Fatalf("%s: library entry %s is %s", r.Addr, r.LibraryPath, st)
		}
	}

	// An hour of emulator time later, a change to every connection needs
	// tokens again: all come from the refresh token, none from a person.
	e.Advance(time.Hour)
	for _, c := range conns {
		c.Description = "changed"
	}
	res, err = Run(context.Background(), makePlan(t, cfg, st, opt), cfg, st, w, opt)
	if err != nil {
		t.Fatal(err)
	}
	if failed := res.Failed(); len(failed) > 0 {
		t.Fatalf("failed: %v", failed[0].Err)
	}
	if got := e.Stats().SignIns; got != 1 || res.Interactive != 0 {
		t.Fatalf("second apply: emulator counts %d sign-ins in all (want still 1), apply %d (want 0)", got, res.Interactive)
	}
}

func TestRunFailureStaysWithItsConnection(t *testing.T) {
	e, conns := setup(t, 2)
	// Only the ghost connection fails.
	cfg := &config.Config{Connections: []*config.Connection{conns[0], ghost(conns[1])}}
	opt := options(t, e, true)
	st := state.New("test")

	res, err := Run(context.Background(), makePlan(t, cfg, nil, opt), cfg, st, &countingWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	failed := res.Failed()
	if len(failed) != 1 || failed[0].Addr != "connection.ghost" {
		t.Fatalf("failures %+v, want only connection.ghost", failed)
	}
	if msg := failed[0].Err.Error(); !strings.Contains(msg, "connection.ghost") || !strings.Contains(msg, "500011") {
		t.Errorf("failure %q should name the connection and Entra's code", msg)
	}
	if st.Lookup("connection.org01") == nil || st.Lookup("connection.ghost") != nil {
		t.Fatalf("state should hold the good connection only: %+v", st.Connections)
	}
}

func TestRunWithoutInputNeverOpensABrowser(t *testing.T) {
	e, conns := setup(t, 1)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, false)
	browser := opt.Flow.Opener.(*auth.RecordingOpener)
	st := state.New("test")

	res, err := Run(context.Background(), makePlan(t, cfg, nil, opt), cfg, st, &countingWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	failed := res.Failed()
	if len(failed) != 1 || !strings.Contains(failed[0].Err.Error(), "needs an interactive sign-in") {
		t.Fatalf("want the connection to fail asking for a sign-in, got %+v", failed)
	}
	if len(browser.Opened()) != 0 || e.Stats().SignIns != 0 {
		t.Fatalf("a browser was opened with input disabled: %v", browser.Opened())
	}
	if len(st.Connections) != 0 {
		t.Fatalf("state changed: %+v", st.Connections)
	}
}

func TestRunDeleteForgetsUnusedTokens(t *testing.T) {
	e, conns := setup(t, 2)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	st := state.New("test")
	if _, err := Run(context.Background(), makePlan(t, cfg, nil, opt), cfg, st, &countingWriter{}, opt); err != nil {
		t.Fatal(err)
	}
	key := plan.TokenKey(conns[0])

	// Destroying one org keeps the account's tokens: the other uses them.
	one := &config.Config{Connections: conns[:1]}
	res, err := Run(context.Background(), makePlan(t, one, st, opt), one, st, &countingWriter{}, opt)
	if err != nil || len(res.Failed()) > 0 {
		t.Fatal(err, res.Failed())
	}
	if g, _ := opt.Store.Get(key); g == nil {
		t.Fatal("tokens forgotten while a connection still uses them")
	}
	none := &config.Config{}
	if _, err := Run(context.Background(), makePlan(t, none, st, opt), none, st, &countingWriter{}, opt); err != nil {
		t.Fatal(err)
	}
	if g, _ := opt.Store.Get(key); g != nil {
		t.Fatal("tokens kept after the last connection using them was destroyed")
	}
	left, err := filepath.Glob(filepath.Join(filepath.Dir(opt.LibraryFile(conns[0])), "*"))
	if err != nil || len(left) != 0 {
		t.Fatalf("library entries left after destroying everything: %v %v", left, err)
	}
}

// A WhoAmI failure says what the org answered. Only a 401 or 403 is the org
// refusing the token; anything else must not be blamed on it.
func TestRunWhoAmIFailureSaysWhatTheOrgAnswered(t *testing.T) {
	tests := []struct {
		fault emulator.FaultKind
		want  []string
		not   string
	}{
		{emulator.FaultUnavailable, []string{"verifying against http://127.0.0.1:", "failed: GET ", "WhoAmI: HTTP 503 Service Unavailable", "Scripted fault", "the service is busy or failing (connform retried with backoff); try again later"}, "refused the token"},
		{emulator.FaultServerError, []string{"WhoAmI: HTTP 500 Internal Server Error", "try again later"}, "refused the token"},
		{emulator.FaultBadSecret, []string{"the org refused the token: GET ", "HTTP 401 Unauthorized", "check that url, scopes and tenant_id name the same environment"}, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			e, conns := setup(t, 1)
			e.AddFault(emulator.Fault{Endpoint: "webapi/whoami", Kind: tt.fault})
			cfg := &config.Config{Connections: conns}
			opt := options(t, e, true)
			st := state.New("test")
			res, err := Run(context.Background(), makePlan(t, cfg, nil, opt), cfg, st, &countingWriter{}, opt)
			if err != nil {
				t.Fatal(err)
			}
			failed := res.Failed()
			if len(failed) != 1 {
				t.Fatalf("failures %+v, want one", failed)
			}
			msg := failed[0].Err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
			if tt.not != "" && strings.Contains(msg, tt.not) {
				t.Errorf("error %q blames the token", msg)
			}
			var apiErr *dynamics.APIError
			if !errors.As(failed[0].Err, &apiErr) {
				t.Errorf("the Web API error is not reachable through errors.As")
			}
			if len(st.Connections) != 0 {
				t.Errorf("a connection that failed verification reached the state")
			}
		})
	}
}

// When the account's sign-in fails (here: nobody completes it before the
// timeout), the other orgs of the account do not each ask again.
func TestRunFailedSignInIsNotRepeatedPerOrg(t *testing.T) {
	e, conns := setup(t, 3)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	browser := &auth.RecordingOpener{} // opens, but nobody signs in
	opt.Flow.Opener = browser
	opt.Flow.Timeout = 50 * time.Millisecond
	st := state.New("test")
	res, err := Run(context.Background(), makePlan(t, cfg, nil, opt), cfg, st, &countingWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(browser.Opened()); n != 1 {
		t.Fatalf("the browser was opened %d times for one account, want 1", n)
	}
	failed := res.Failed()
	if len(failed) != 3 {
		t.Fatalf("%d failures, want 3", len(failed))
	}
	var repeated int
	for _, f := range failed {
		if strings.Contains(f.Err.Error(), "not signing in again: the sign-in for this account failed for connection.org01") {
			repeated++
		}
	}
	if repeated != 2 {
		t.Errorf("%d connections point at the failed sign-in, want 2: %v", repeated, failed)
	}
}

// failingWriter records the intent to write a library file but cannot
// record the finished connection.
type failingWriter struct{}

func (failingWriter) Record(es ...state.Entry) error {
	for _, e := range es {
		if e.Op == state.OpPut {
			return errors.New("record in the state journal: no space left on device")
		}
	}
	return nil
}

// When the state cannot record a connection, its library entry is put back
// as it was: the next plan must not blame the user for an edit.
func TestRunStateSaveFailureRestoresLibraryEntry(t *testing.T) {
	e, conns := setup(t, 2)
	cfg := &config.Config{Connections: conns[:1]}
	opt := options(t, e, true)
	st := state.New("test")
	if res, err := Run(context.Background(), makePlan(t, cfg, nil, opt), cfg, st, &countingWriter{}, opt); err != nil || len(res.Failed()) > 0 {
		t.Fatalf("first apply: %v %v", err, res.Failed())
	}
	updated := st.Lookup(conns[0].Addr).LibraryPath
	before, err := os.ReadFile(updated)
	if err != nil {
		t.Fatal(err)
	}

	conns[0].Description = "changed"
	cfg = &config.Config{Connections: conns} // conns[1] is new
	res, err := Run(context.Background(), makePlan(t, cfg, st, opt), cfg, st, failingWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Failed()); n != 2 {
		t.Fatalf("%d failures, want 2", n)
	}
	for _, f := range res.Failed() {
		if !strings.Contains(f.Err.Error(), "the library entry was put back as it was") {
			t.Errorf("%s: %v", f.Addr, f.Err)
		}
	}
	if after, _ := os.ReadFile(updated); !bytes.Equal(after, before) {
		t.Errorf("the updated entry was not restored:\n%s", after)
	}
	created := opt.LibraryFile(conns[1])
	if _, err := os.Stat(created); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the new entry %s was left behind: %v", created, err)
	}
}

// A sign-in that fails because of the app (a wrong client secret is
// refused at the code exchange) would fail for every org of the account:
// one browser window, not one per org.
func TestRunAppMisconfiguredSignInIsNotRepeatedPerOrg(t *testing.T) {
	e, conns := setup(t, 3)
	conf, _ := e.Info().App(emulator.ConfidentialApp)
	for _, c := range conns {
		c.ClientID, c.ClientSecret = conf.ClientID, "the secret's id, not its value"
	}
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	browser := opt.Flow.Opener.(*auth.RecordingOpener)
	res, err := Run(context.Background(), makePlan(t, cfg, nil, opt), cfg, state.New("test"), &countingWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(browser.Opened()); n != 1 {
		t.Fatalf("the browser was opened %d times for one account, want 1", n)
	}
	var explained, pointed int
	for _, f := range res.Failed() {
		switch msg := f.Err.Error(); {
		case strings.Contains(msg, "AADSTS7000215"):
			explained++
		case strings.Contains(msg, "not signing in again"):
			pointed++
		}
	}
	if explained != 1 || pointed != 2 {
		t.Errorf("%d explained, %d pointing at it; want 1 and 2: %v", explained, pointed, res.Failed())
	}
}

// An interrupted run starts nothing more; what did not start says so.
func TestRunInterruptedStartsNoMore(t *testing.T) {
	e, conns := setup(t, 4)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	opt.Parallelism = 1
	var started []string
	var mu sync.Mutex
	opt.Events = func(ev Event) {
		if ev.Kind == EventStart {
			mu.Lock()
			started = append(started, ev.Addr)
			mu.Unlock()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st := state.New("test")
	res, err := Run(ctx, makePlan(t, cfg, nil, opt), cfg, st, &countingWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(started) != 0 || len(opt.Flow.Opener.(*auth.RecordingOpener).Opened()) != 0 {
		t.Fatalf("started %v after the interrupt", started)
	}
	if len(res.Outcomes) != 4 || len(res.Failed()) != 4 {
		t.Fatalf("outcomes %+v, want 4 failed", res.Outcomes)
	}
	for _, o := range res.Outcomes {
		if !strings.Contains(o.Err.Error(), "not started: the run was interrupted") {
			t.Errorf("%s: %v", o.Addr, o.Err)
		}
	}
}

// Ctrl-C while the browser is open: the sign-in says it was interrupted,
// plainly, and the rest does not start.
func TestRunInterruptedDuringSignIn(t *testing.T) {
	e, conns := setup(t, 2)
	cfg := &config.Config{Connections: conns}
	opt := options(t, e, true)
	opt.Parallelism = 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opt.Flow.Opener = &auth.RecordingOpener{OnOpen: func(string) error { cancel(); return nil }}
	res, err := Run(ctx, makePlan(t, cfg, nil, opt), cfg, state.New("test"), &countingWriter{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range res.Outcomes {
		if o.Err == nil || !errors.Is(o.Err, context.Canceled) && !strings.Contains(o.Err.Error(), "interrupted") {
			t.Errorf("%s: %v", o.Addr, o.Err)
			continue
		}
		got[o.Addr] = o.Err.Error()
	}
	if got["connection.org01"] != "connection.org01: signing in was interrupted: context canceled" {
		t.Errorf("org01: %q", got["connection.org01"])
	}
	if got["connection.org02"] != "connection.org02: not started: the run was interrupted" {
		t.Errorf("org02: %q", got["connection.org02"])
	}
}
