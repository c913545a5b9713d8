package plan

import (
	"os"
	"strings"
	"testing"
	"time"

	"connform/auth"
	"connform/config"
	"connform/state"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func conn(name, url string, mod ...func(*config.Connection)) *config.Connection {
	c := &config.Connection{
		Name: name, Addr: "connection." + name, URL: url,
		TenantID: "t1", ClientID: "app1",
		AuthorizationURL: "https://login.microsoftonline.com/t1/oauth2/v2.0/authorize",
		TokenURL:         "https://login.microsoftonline.com/t1/oauth2/v2.0/token",
		GrantType:        config.GrantAuthorizationCode, Redirect: "http://localhost",
		Scopes: []string{url + "/user_impersonation", "offline_access"}, Prompt: "select_account",
	}
	for _, m := range mod {
		m(c)
	}
	return c
}

func record(lineage string, c *config.Connection) *state.Connection {
	r := &state.Connection{Addr: c.Addr, Name: c.Name, Attributes: c.Attributes(), TokenKey: TokenKey(c)}
	for k, v := range c.Sensitive() {
		if r.SensitiveFingerprints == nil {
			r.SensitiveFingerprints = map[string]string{}
		}
		r.SensitiveFingerprints[k] = state.Fingerprint(lineage, v)
	}
	return r
}

type tokens map[string]*auth.Grant // by key

func (t tokens) lookup(key string) *auth.Grant { return t[key] }

func TestMake(t *testing.T) {
	sales := conn("sales", "https://sales.crm4.dynamics.com")
	finance := conn("finance", "https://finance.crm4.dynamics.com")
	app := conn("app", "https://sales.crm4.dynamics.com", func(c *config.Connection) {
		c.GrantType = config.GrantClientCredentials
		c.ClientSecret = "s3cret-value"
		c.Scopes = []string{c.URL + "/.default"}
	})
	cert := conn("cert", "https://sales.crm4.dynamics.com", func(c *config.Connection) {
		c.AuthenticationMethod = config.MethodClientCertificate
		c.CertificatePath = "app.pem"
		c.Scopes = []string{c.URL + "/.default"}
	})
	confidential := conn("conf", "https://sales.crm4.dynamics.com", func(c *config.Connection) { c.ClientSecret = "s3cret-value" })
	refreshable := tokens{TokenKey(sales): {RefreshToken: "rt"}}
	// Every connection below holds a valid token: only a changed credential
	// makes apply get a new one.
	valid := func(cs ...*config.Connection) tokens {
		t := tokens{}
		for _, c := range cs {
			g := &auth.Grant{Access: map[string]*auth.AccessToken{c.URL: {Token: "at", Expiry: now.Add(time.Hour), Scopes: c.Scopes}}}
			if c.GrantType == config.GrantAuthorizationCode {
				g.RefreshToken = "rt"
			}
			t[TokenKey(c)] = g
		}
		return t
	}

	type want struct {
		action Action
		reason string // the reason codes, as Verify names them
		auth   AuthKind
		areas  string // substring of auth reason
	}
	tests := []struct {
		name    string
		conns   []*config.Connection
		prior   []*config.Connection // applied as-is into the state
		tokens  tokens
		library map[string]LibraryStatus
		targets []string
		destroy bool
		want    map[string]want
		sum     Summary
	}{
		{
			name:  "first apply: one browser sign-in serves both orgs of the account",
			conns: []*config.Connection{sales, finance},
			want: map[string]want{
				"connection.finance": {Create, "[not_created]", AuthInteractive, "no token"},
				"connection.sales":   {Create, "[not_created]", AuthRefresh, "covered by the sign-in for connection.finance"},
			},
			sum: Summary{Add: 2, SignIns: 2, Interactive: 1},
		},
		{
			name:   "in sync with a refresh token: nothing to do",
			conns:  []*config.Connection{sales, finance},
			prior:  []*config.Connection{sales, finance},
			tokens: refreshable,
			want: map[string]want{
				"connection.finance": {NoOp, "[]", AuthNone, ""},
				"connection.sales":   {NoOp, "[]", AuthNone, ""},
			},
		},
		{
			name:   "tokens lost: update that signs in again",
			conns:  []*config.Connection{sales},
			prior:  []*config.Connection{sales},
			tokens: nil,
			want:   map[string]want{"connection.sales": {Update, "[no_token]", AuthInteractive, "no token"}},
			sum:    Summary{Change: 1, SignIns: 1, Interactive: 1},
		},
		{
			name:  "description changes in place; a valid token needs no sign-in",
			conns: []*config.Connection{conn("sales", sales.URL, func(c *config.Connection) { c.Description = "new" })},
			prior: []*config.Connection{sales},
			tokens: tokens{TokenKey(sales): {RefreshToken: "rt", Access: map[string]*auth.AccessToken{
				sales.URL: {Token: "at", Expiry: now.Add(time.Hour), Scopes: []string{sales.URL + "/user_impersonation"}}}}},
			want: map[string]want{"connection.sales": {Update, "[attributes_changed (description)]", AuthNone, "token valid until"}},
			sum:  Summary{Change: 1},
		},
		{
			name:   "new url forces replacement; the account's refresh token covers the new org",
			conns:  []*config.Connection{conn("sales", "https://sales2.crm4.dynamics.com")},
			prior:  []*config.Connection{sales},
			tokens: refreshable,
			want:   map[string]want{"connection.sales": {Replace, "[forces_replacement (scopes, url)]", AuthRefresh, "refresh token covers it"}},
			sum:    Summary{Add: 1, Destroy: 1, SignIns: 1},
		},
		{
			name:   "new client id is a new identity: replacement and a browser sign-in",
			conns:  []*config.Connection{conn("sales", sales.URL, func(c *config.Connection) { c.ClientID = "app2" })},
			prior:  []*config.Connection{sales},
			tokens: refreshable,
			want:   map[string]want{"connection.sales": {Replace, "[forces_replacement (client_id)]", AuthInteractive, "identity changed (client_id"}},
			sum:    Summary{Add: 1, Destroy: 1, SignIns: 1, Interactive: 1},
		},
		{
			name:   "removed from the configuration: destroyed",
			conns:  []*config.Connection{sales},
			prior:  []*config.Connection{sales, finance},
			tokens: refreshable,
			want: map[string]want{
				"connection.sales":   {NoOp, "[]", AuthNone, ""},
				"connection.finance": {Delete, "[removed_from_config]", AuthNone, ""},
			},
			sum: Summary{Destroy: 1},
		},
		{
			name:  "new app-only connection: client credentials, and a note on the application user",
			conns: []*config.Connection{app, cert},
			want: map[string]want{
				"connection.app":  {Create, "[not_created]", AuthClientCredentials, "no token; the app signs in with its secret"},
				"connection.cert": {Create, "[not_created]", AuthCredential, "the app signs in with its certificate"},
			},
			sum: Summary{Add: 2, SignIns: 2},
		},
		{
			name:  "changed client secret: update, new app token",
			conns: []*config.Connection{conn("app", app.URL, func(c *config.Connection) { *c = *app; c.ClientSecret = "other" })},
			prior: []*config.Connection{app},
			want:  map[string]want{"connection.app": {Update, "[attributes_changed (client_secret)]", AuthClientCredentials, "client_secret changed; a new token proves it"}},
			sum:   Summary{Change: 1, SignIns: 1},
		},
		{
			name:   "changed certificate: update, new token despite a valid one",
			conns:  []*config.Connection{conn("cert", cert.URL, func(c *config.Connection) { *c = *cert; c.CertificatePath = "new.pfx"; c.CertificatePassword = "other" })},
			prior:  []*config.Connection{cert},
			tokens: valid(cert),
			want:   map[string]want{"connection.cert": {Update, "[attributes_changed (certificate_path, certificate_password)]", AuthCredential, "certificate_path, certificate_password changed; a new token proves it"}},
			sum:    Summary{Change: 1, SignIns: 1},
		},
		{
			name:   "confidential user app's secret changed: refresh proves it",
			conns:  []*config.Connection{conn("conf", confidential.URL, func(c *config.Connection) { *c = *confidential; c.ClientSecret = "other" })},
			prior:  []*config.Connection{confidential},
			tokens: valid(confidential),
			want:   map[string]want{"connection.conf": {Update, "[attributes_changed (client_secret)]", AuthRefresh, "a refresh with it proves it"}},
			sum:    Summary{Change: 1, SignIns: 1},
		},
		{
			name:   "description changed: the valid token is kept",
			conns:  []*config.Connection{conn("cert", cert.URL, func(c *config.Connection) { *c = *cert; c.Description = "now described" })},
			prior:  []*config.Connection{cert},
			tokens: valid(cert),
			want:   map[string]want{"connection.cert": {Update, "[attributes_changed (description)]", AuthNone, "token valid until"}},
			sum:    Summary{Change: 1},
		},
		{
			name:    "library entry deleted by hand: repaired",
			conns:   []*config.Connection{sales},
			prior:   []*config.Connection{sales},
			tokens:  refreshable,
			library: map[string]LibraryStatus{"lib/sales.dsconn": LibraryMissing},
			want:    map[string]want{"connection.sales": {Update, "[library_missing]", AuthRefresh, ""}},
			sum:     Summary{Change: 1, SignIns: 1},
		},
		{
			name:    "target limits the plan",
			conns:   []*config.Connection{sales, finance},
			targets: []string{"connection.sales"},
			want:    map[string]want{"connection.sales": {Create, "[not_created]", AuthInteractive, "no token"}},
			sum:     Summary{Add: 1, SignIns: 1, Interactive: 1},
		},
		{
			name: "target with an unquoted instance key, as a shell leaves it",
			conns: []*config.Connection{
				conn("crm", sales.URL, func(c *config.Connection) { c.Key, c.Addr = "sales", `connection.crm["sales"]` }),
				conn("crm", finance.URL, func(c *config.Connection) { c.Key, c.Addr = "finance", `connection.crm["finance"]` }),
			},
			targets: []string{"connection.crm[finance]"},
			want:    map[string]want{`connection.crm["finance"]`: {Create, "[not_created]", AuthInteractive, "no token"}},
			sum:     Summary{Add: 1, SignIns: 1, Interactive: 1},
		},
		{
			name: "a bare block name targets every instance, and the type may be left out",
			conns: []*config.Connection{
				conn("crm", sales.URL, func(c *config.Connection) { c.Key, c.Addr = "sales", `connection.crm["sales"]` }),
				conn("crm", finance.URL, func(c *config.Connection) { c.Key, c.Addr = "finance", `connection.crm["finance"]` }),
				sales,
			},
			targets: []string{"crm"},
			want: map[string]want{
				`connection.crm["finance"]`: {Create, "[not_created]", AuthInteractive, "no token"},
				`connection.crm["sales"]`:   {Create, "[not_created]", AuthRefresh, "covered by the sign-in"},
			},
			sum: Summary{Add: 2, SignIns: 2, Interactive: 1},
		},
		{
			name: "crm[test] without the type targets one instance",
			conns: []*config.Connection{
				conn("crm", sales.URL, func(c *config.Connection) { c.Key, c.Addr = "test", `connection.crm["test"]` }),
				conn("crm", finance.URL, func(c *config.Connection) { c.Key, c.Addr = "prod", `connection.crm["prod"]` }),
			},
			targets: []string{"crm[test]"},
			want:    map[string]want{`connection.crm["test"]`: {Create, "[not_created]", AuthInteractive, "no token"}},
			sum:     Summary{Add: 1, SignIns: 1, Interactive: 1},
		},
		{
			name:    "destroy plans a delete for everything in the state",
			conns:   []*config.Connection{sales},
			prior:   []*config.Connection{sales, finance},
			destroy: true,
			want: map[string]want{
				"connection.sales":   {Delete, "[destroy_requested]", AuthNone, ""},
				"connection.finance": {Delete, "[removed_from_config]", AuthNone, ""},
			},
			sum: Summary{Destroy: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.Config{Connections: tt.conns, Hash: "h"}
			var st *state.State
			if tt.prior != nil {
				st = &state.State{Version: 1, Serial: 3, Lineage: "L"}
				for _, c := range tt.prior {
					r := record("L", c)
					r.LibraryPath = "lib/" + c.Name + ".dsconn"
					st.Connections = append(st.Connections, r)
				}
			}
			in := Input{Config: cfg, State: st, Now: now, Targets: tt.targets, Destroy: tt.destroy, Grant: tt.tokens.lookup,
				LibraryFile: func(c *config.Connection) string { return "lib/" + c.Name + ".dsconn" },
				Library: func(path, hash string) LibraryStatus {
					if s, ok := tt.library[path]; ok {
						return s
					}
					if st != nil && st.Records(path) {
						return LibraryOK
					}
					return LibraryMissing // no record, no file: a new entry's place
				}}
			p, err := Make(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Changes) != len(tt.want) {
				t.Fatalf("got %d changes, want %d: %+v", len(p.Changes), len(tt.want), p.Changes)
			}
			for _, ch := range p.Changes {
				w, ok := tt.want[ch.Addr]
				if !ok {
					t.Fatalf("unexpected change for %s", ch.Addr)
				}
				if ch.Action != w.action || reasonCodes(ch.Reasons) != w.reason {
					t.Errorf("%s: action %v (%q), want %v containing %q", ch.Addr, ch.Action, reasonCodes(ch.Reasons), w.action, w.reason)
				}
				if ch.Auth.Kind != w.auth || !strings.Contains(ch.Auth.Reason, w.areas) {
					t.Errorf("%s: auth %v (%q), want %v containing %q", ch.Addr, ch.Auth.Kind, ch.Auth.Reason, w.auth, w.areas)
				}
				if wantFresh := strings.Contains(w.areas, "proves it"); ch.Auth.Fresh != wantFresh {
					t.Errorf("%s: auth.fresh %v, want %v", ch.Addr, ch.Auth.Fresh, wantFresh)
				}
				for _, a := range ch.Attrs {
					if strings.Contains(a.Before+a.After, "s3cret") || strings.Contains(a.Before+a.After, "other") {
						t.Errorf("%s: attribute %s shows a secret", ch.Addr, a.Name)
					}
				}
			}
			for _, ch := range p.Changes {
				c := map[string]*config.Connection{}
				for _, x := range tt.conns {
					c[x.Addr] = x
				}
				wantNote := (ch.Action == Create || ch.Action == Replace) && c[ch.Addr] != nil && AuthConn(c[ch.Addr]).AppOnly()
				if (ch.Note != "") != wantNote || (wantNote && !strings.Contains(ch.Note, "needs an application user with a security role in "+c[ch.Addr].URL)) {
					t.Errorf("%s: note %q, want one: %v", ch.Addr, ch.Note, wantNote)
				}
			}
			got := p.Summarize()
			got.InteractiveAccounts = nil
			if got.Add != tt.sum.Add || got.Change != tt.sum.Change || got.Destroy != tt.sum.Destroy ||
				got.SignIns != tt.sum.SignIns || got.Interactive != tt.sum.Interactive {
				t.Errorf("summary %+v, want %+v", got, tt.sum)
			}
		})
	}
}

func TestMakeRefuses(t *testing.T) {
	guarded := conn("prod", "https://prod.crm4.dynamics.com", func(c *config.Connection) { c.PreventDestroy = true })
	st := &state.State{Version: 1, Serial: 1, Lineage: "L", Connections: []*state.Connection{record("L", guarded)}}
	tests := []struct {
		name    string
		conns   []*config.Connection
		targets []string
		destroy bool
		want    string
	}{
		{"destroy honours prevent_destroy", []*config.Connection{guarded}, nil, true, "connection.prod has lifecycle.prevent_destroy set"},
		{"replace honours prevent_destroy", []*config.Connection{conn("prod", "https://prod2.crm4.dynamics.com", func(c *config.Connection) { c.PreventDestroy = true })}, nil, false, "would be replaced (scopes, url changed"},
		{"unknown target", []*config.Connection{guarded}, []string{"connection.nope"}, false, `target connection.nope matches no connection`},
		{"unknown instance", []*config.Connection{guarded}, []string{"prod[dev]"}, false, `target connection.prod["dev"] matches no connection`},
		{"malformed target", []*config.Connection{guarded}, []string{"prod[dev"}, false, `-target: invalid address "prod[dev" (a [ without its closing ]): write connection.NAME, NAME,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Make(Input{Config: &config.Config{Connections: tt.conns}, State: st, Now: now, Targets: tt.targets, Destroy: tt.destroy})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCheckFresh(t *testing.T) {
	p := &Plan{ConfigHash: "h1", StateLineage: "L", StateSerial: 4}
	tests := []struct {
		hash, lineage string
		serial        uint64
		want          string
	}{
		{"h1", "L", 4, ""},
		{"h2", "L", 4, "configuration or its variables changed"},
		{"h1", "M", 4, "another state"},
		{"h1", "L", 5, "state changed since this plan was made (serial 4, now 5)"},
	}
	for _, tt := range tests {
		err := p.CheckFresh(tt.hash, tt.lineage, tt.serial)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckFresh(%s,%s,%d) = %v, want %q", tt.hash, tt.lineage, tt.serial, err, tt.want)
		}
	}
	fresh := &Plan{ConfigHash: "h1"}
	if err := fresh.CheckFresh("h1", "L", 1); err == nil {
		t.Error("a plan made before any state existed must be refused once a state exists")
	}
}

func TestPlanFileRoundTrip(t *testing.T) {
	secretConn := conn("app", "https://sales.crm4.dynamics.com", func(c *config.Connection) {
		c.GrantType = config.GrantClientCredentials
		c.ClientSecret = "very-secret-value"
	})
	p, err := Make(Input{Config: &config.Config{Connections: []*config.Connection{secretConn}, Hash: "h"}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/tfplan"
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "very-secret-value") {
		t.Fatal("the plan file contains the client secret")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Changes) != 1 || got.Changes[0].Action != Create || got.Changes[0].Auth.Kind != AuthClientCredentials || got.ConfigHash != "h" {
		t.Fatalf("round trip lost data: %+v", got.Changes[0])
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "not a connform plan file") {
		t.Fatalf("corrupt plan file: %v", err)
	}
}

// A file connform did not write where a new connection's entry goes is
// named in the plan: apply will not overwrite it, so the user learns it
// before applying, not from a failed connection.
func TestCreateNamesAFileConnformDidNotWrite(t *testing.T) {
	sales := conn("sales", "https://sales.crm4.dynamics.com")
	for _, tc := range []struct {
		onDisk LibraryStatus
		want   string
	}{
		{LibraryMissing, ""},
		{LibraryModified, "lib/sales.dsconn exists and connform did not write it: apply will leave it and fail this connection; move it away, or bring it under connform with connform import"},
	} {
		p, err := Make(Input{Config: &config.Config{Connections: []*config.Connection{sales}, Hash: "h"}, Now: time.Now(),
			LibraryFile: func(c *config.Connection) string { return "lib/" + c.Name + ".dsconn" },
			Library:     func(path, hash string) LibraryStatus { return tc.onDisk }})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Changes[0].Note; got != tc.want {
			t.Errorf("with the entry's place %s: note %q, want %q", tc.onDisk, got, tc.want)
		}
	}
}
