package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connform/apply"
	"connform/auth"
	"connform/config"
	"connform/dynamics"
	"connform/emulator"
	"connform/library"
	"connform/plan"
	"connform/state"
)

// TestSignInDecisionsAgree drives every sign-in method through every
// stored-grant state and checks that plan's prediction, the token action
// apply takes, and `auth status` say the same thing. Apply runs with input
// disabled, so an interactive sign-in shows as the error naming it; the
// silent ways run for real against the emulator (TLS, as azidentity wants).
func TestSignInDecisionsAgree(t *testing.T) {
	e, err := emulator.Start(emulator.Options{Orgs: 1, TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	info := e.Info()
	hc := e.HTTPClient()
	org, err := dynamics.ParseOrgURL(info.Orgs[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	public, _ := info.App(emulator.PublicApp)
	confidential, _ := info.App(emulator.ConfidentialApp)
	dir := t.TempDir()
	certPEM, err := e.ClientCertificatePEM()
	if err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(dir, "app.pem")
	fedPath := filepath.Join(dir, "federated")
	for path, data := range map[string][]byte{certPath: certPEM, fedPath: []byte(e.IssueFederatedToken(emulator.FederatedSubject))} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// azidentity: managed identity from the emulator, never IMDS; no az.
	t.Setenv("IDENTITY_ENDPOINT", info.Native.ManagedIdentityEndpoint)
	t.Setenv("IDENTITY_HEADER", info.Native.ManagedIdentityHeader)
	t.Setenv("PATH", t.TempDir())

	base := func(name string) *config.Connection {
		return &config.Connection{
			Name: name, Addr: "connection." + name, URL: org.Root, TenantID: info.TenantID,
			AuthorizationURL: info.AuthorizationURL, TokenURL: info.TokenURL, Redirect: "http://localhost",
		}
	}
	user := func(grant string) func() *config.Connection {
		return func() *config.Connection {
			c := base(grant)
			c.GrantType, c.ClientID, c.Scopes = grant, public.ClientID, org.DelegatedScopes()
			return c
		}
	}
	native := func(method, clientID string, set func(*config.Connection)) func() *config.Connection {
		return func() *config.Connection {
			c := base(method)
			c.AuthenticationMethod, c.ClientID, c.Scopes = method, clientID, org.AppScopes()
			if set != nil {
				set(c)
			}
			return c
		}
	}
	methods := []struct {
		name string
		conn func() *config.Connection
	}{
		{auth.GrantAuthorizationCode, user(auth.GrantAuthorizationCode)},
		{auth.GrantDeviceCode, user(auth.GrantDeviceCode)},
		{auth.GrantClientCredentials, func() *config.Connection {
			c := base("secret")
			c.GrantType, c.ClientID, c.ClientSecret, c.Scopes = auth.GrantClientCredentials, confidential.ClientID, confidential.ClientSecret, org.AppScopes()
			return c
		}},
		{auth.MethodAzureCLI, native(auth.MethodAzureCLI, "", nil)},
		{auth.MethodManagedIdentity, native(auth.MethodManagedIdentity, "", nil)},
		{auth.MethodWorkloadIdentity, native(auth.MethodWorkloadIdentity, info.Native.FederatedClientID, func(c *config.Connection) { c.FederatedTokenFile = fedPath })},
		{auth.MethodClientCertificate, native(auth.MethodClientCertificate, info.Native.CertClientID, func(c *config.Connection) { c.CertificatePath = certPath })},
	}

	// signIn gets a real refresh token of the public app for the org.
	signIn := func(t *testing.T) string {
		f := &auth.Flow{HTTPClient: hc, Now: e.Now, Opener: auth.OpenerFunc(func(u string) error {
			go emulator.CompleteSignIn(context.Background(), hc, u)
			return nil
		})}
		res, err := f.AuthorizationCode(context.Background(), auth.Params{
			AuthorizationURL: info.AuthorizationURL, TokenURL: info.TokenURL, ClientID: public.ClientID,
			Redirect: "http://localhost", Scopes: org.DelegatedScopes(),
		})
		if err != nil || res.RefreshToken == "" {
			t.Fatalf("signing in for a refresh token: %v", err)
		}
		return res.RefreshToken
	}
	access := func(c *config.Connection, valid bool, scopes []string) map[string]*auth.AccessToken {
		exp := e.Now().Add(time.Hour)
		if !valid {
			exp = e.Now().Add(-time.Minute)
		}
		return map[string]*auth.AccessToken{c.URL: {Token: "stored-access-token", Expiry: exp, Scopes: scopes, Requested: c.Scopes}}
	}
	states := []struct {
		name            string
		grant           func(t *testing.T, c *config.Connection) *auth.Grant
		fault           emulator.FaultKind
		identityChanged bool
	}{
		{name: "none"},
		{name: "valid", grant: func(_ *testing.T, c *config.Connection) *auth.Grant {
			return &auth.Grant{Access: access(c, true, c.Scopes)}
		}},
		{name: "expired with refresh token", grant: func(t *testing.T, c *config.Connection) *auth.Grant {
			return &auth.Grant{RefreshToken: signIn(t), Access: access(c, false, c.Scopes)}
		}},
		{name: "expired without refresh token", grant: func(_ *testing.T, c *config.Connection) *auth.Grant {
			return &auth.Grant{Access: access(c, false, c.Scopes)}
		}},
		{name: "scopes not covered", grant: func(_ *testing.T, c *config.Connection) *auth.Grant {
			return &auth.Grant{Access: access(c, true, []string{"openid"})}
		}},
		{name: "identity changed", identityChanged: true},
	}
	for _, kind := range []emulator.FaultKind{emulator.FaultRevoked, emulator.FaultMFARequired, emulator.FaultConsentRequired, emulator.FaultInvalidScope} {
		states = append(states, struct {
			name            string
			grant           func(t *testing.T, c *config.Connection) *auth.Grant
			fault           emulator.FaultKind
			identityChanged bool
		}{name: "refresh refused " + string(kind), fault: kind, grant: func(t *testing.T, c *config.Connection) *auth.Grant {
			return &auth.Grant{RefreshToken: signIn(t), Access: access(c, false, c.Scopes)}
		}})
	}

	for _, m := range methods {
		for _, s := range states {
			t.Run(m.name+"/"+s.name, func(t *testing.T) {
				e.ClearFaults()
				c := m.conn()
				c.Description = "after"
				store := auth.NewMemoryStore()
				if s.grant != nil {
					if err := store.Put(plan.TokenKey(c), s.grant(t, c)); err != nil {
						t.Fatal(err)
					}
				}
				prior := *c
				prior.Description = "before"
				if s.identityChanged {
					prior.ClientID = "00000000-0000-0000-0000-000000000000"
				}
				cfg := &config.Config{Connections: []*config.Connection{c}}
				st := state.New("agree")
				rec0 := &state.Connection{Addr: c.Addr, Name: c.Name, Attributes: prior.Attributes(), TokenKey: plan.TokenKey(&prior)}
				for k, v := range prior.Sensitive() {
					if rec0.SensitiveFingerprints == nil {
						rec0.SensitiveFingerprints = map[string]string{}
					}
					rec0.SensitiveFingerprints[k] = state.Fingerprint(st.Lineage, v)
				}
				st.Connections = []*state.Connection{rec0}

				predicted, status := predict(t, cfg, st, store, e.Now())
				if status != predicted.Kind {
					t.Errorf("plan predicts %v (%s), auth status says %v", predicted.Kind, predicted.ReasonCode, status)
				}

				if s.fault != "" {
					e.AddFault(emulator.Fault{Endpoint: "token", Kind: s.fault, Count: 1})
				}
				rec := &recorder{}
				opt := apply.Options{
					Store: store, Flow: &auth.Flow{HTTPClient: hc, Now: e.Now, Sleep: func(context.Context, time.Duration) error { return nil }},
					Dynamics: &dynamics.Client{HTTP: hc, Sleep: func(context.Context, time.Duration) error { return nil }},
					Now:      e.Now, Events: rec.event, Log: slog.New(rec), Parallelism: 1,
					LibraryFormat: "json", LibraryFile: plan.DefaultLibraryFile(t.TempDir(), "json", library.FileName),
				}
				p, err := plan.Make(plan.Input{Config: cfg, State: st, Now: e.Now(), Grant: grants(store)})
				if err != nil {
					t.Fatal(err)
				}
				res, err := apply.Run(context.Background(), p, cfg, st, &memWriter{}, opt)
				if err != nil {
					t.Fatal(err)
				}
				got := rec.action(res)
				if got != predicted.Kind {
					t.Errorf("plan predicts %v (%s), apply did %v; events %v, log %v", predicted.Kind, predicted.ReasonCode, got, rec.events, rec.msgs)
				}
				if userMethod := m.name == auth.GrantAuthorizationCode || m.name == auth.GrantDeviceCode; s.fault != "" && userMethod {
					// The refused refresh breaks the plan's promise: apply
					// says so, and then plan and status agree on a sign-in.
					if !rec.has(apply.EventPlanNotKept) {
						t.Errorf("apply did not say the plan could not be kept; events %v", rec.events)
					}
					after, status := predict(t, cfg, st, store, e.Now())
					if after.Kind != plan.AuthInteractive || status != plan.AuthInteractive {
						t.Errorf("after the refusal, plan predicts %v (%s) and status %v, want interactive", after.Kind, after.ReasonCode, status)
					}
				}
			})
		}
	}
}

// predict is plan's prediction for cfg's only connection, and what auth
// status says of it.
func predict(t *testing.T, cfg *config.Config, st *state.State, store auth.Store, now time.Time) (plan.Auth, plan.AuthKind) {
	t.Helper()
	p, err := plan.Make(plan.Input{Config: cfg, State: st, Now: now, Grant: grants(store)})
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Connections[0]
	g, _ := store.Get(plan.TokenKey(c))
	return p.Changes[0].Auth, statusKinds[connectionStatus(c, g, now).State]
}

var statusKinds = map[string]plan.AuthKind{
	tokenValid: plan.AuthNone, tokenRefreshable: plan.AuthRefresh, tokenAppSecret: plan.AuthClientCredentials,
	tokenCredential: plan.AuthCredential, tokenSignIn: plan.AuthInteractive,
}

func grants(store auth.Store) func(string) *auth.Grant {
	return func(key string) *auth.Grant {
		g, _ := store.Get(key)
		return g
	}
}

type memWriter struct{}

func (memWriter) Record(...state.Entry) error { return nil }

// recorder keeps apply's events and the token source's log messages.
type recorder struct {
	mu     sync.Mutex
	events []apply.EventKind
	msgs   []string
}

func (r *recorder) event(e apply.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e.Kind)
}

func (r *recorder) has(k apply.EventKind) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e == k {
			return true
		}
	}
	return false
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	msg := rec.Message
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "need" {
			msg += " " + a.Value.String()
		}
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
	return nil
}

// action is the first way apply took to the token.
func (r *recorder) action(res *apply.Result) plan.AuthKind {
	if r.has(apply.EventRefreshing) {
		return plan.AuthRefresh
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		switch {
		case m == "token from the store":
			return plan.AuthNone
		case m == "token by client credentials" || m == "silent token failed client_secret":
			return plan.AuthClientCredentials
		case m == "token from an Entra credential" || m == "silent token failed credential":
			return plan.AuthCredential
		}
	}
	for _, o := range res.Outcomes {
		if o.Err != nil && strings.Contains(o.Err.Error(), "needs an interactive sign-in") {
			return plan.AuthInteractive
		}
	}
	return -1
}
