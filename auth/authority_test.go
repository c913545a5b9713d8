package auth

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestAuthorityNoteServesOtherAccounts: once one account learns (from a
// refused refresh) that its provider's refresh tokens do not span orgs,
// another app or account of the same authority is predicted one sign-in per
// org at once, without failing a refresh of its own to learn it; another
// authority is not affected, and a logout of one account keeps the note.
func TestAuthorityNoteServesOtherAccounts(t *testing.T) {
	entra := newFakeEntra(t)
	base := entra.srv.URL + "/tenant/oauth2/v2.0/"
	const sales, finance = "https://sales.crm.dynamics.com", "https://finance.crm.dynamics.com"
	conn := func(tokenURL, client, hint, org string) Conn {
		return Conn{Addr: "connection." + client, Resource: org, TokenURL: tokenURL, ClientID: client, LoginHint: hint,
			AuthorizationURL: base + "authorize", Redirect: "http://localhost",
			Scopes: []string{org + "/user_impersonation", "offline_access"}}
	}
	store := NewMemoryStore()
	// The first account signed in for sales; its refresh token is refused
	// for finance with invalid_scope.
	first := conn(base+"token", "app-one", "", sales)
	if err := store.Put(first.Key(), &Grant{RefreshToken: "rt-sales", RefreshResource: sales,
		Access: map[string]*AccessToken{sales: {Token: "at", Expiry: testNow.Add(-1), Scopes: first.Scopes, Requested: first.Scopes}}}); err != nil {
		t.Fatal(err)
	}
	entra.script(scriptedReply{status: 400, body: entraErrorBody("invalid_scope", 70011, "the scope is not valid for this resource")})
	src := &Source{Store: store, Flow: testFlow(nil), Now: func() time.Time { return testNow }}
	if _, err := src.Token(context.Background(), conn(base+"token", "app-one", "", finance), nil); err == nil || !strings.Contains(err.Error(), "input is disabled") {
		t.Fatalf("refused refresh: err = %v, want the sign-in input=false refuses", err)
	}

	tests := []struct {
		name     string
		tokenURL string
		client   string
		hint     string
		wantEach bool // one sign-in per org
	}{
		{"another app of the authority", base + "token", "app-two", "", true},
		{"another account of the first app", base + "token", "app-one", "ada@contoso.example", true},
		{"another tenant of the host", entra.srv.URL + "/other/oauth2/v2.0/token", "app-two", "", false},
		{"another host", "https://login.example/tenant/oauth2/v2.0/token", "app-two", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewGrantReader(store)
			for _, org := range []string{sales, finance} {
				c := conn(tt.tokenURL, tt.client, tt.hint, org)
				g := r.Grant(c.Key())
				if n := Decide(c, g, testNow, Situation{}); n.Kind != NeedInteractive || n.Code != ReasonNoToken {
					t.Errorf("%s: need %s/%s, want interactive/no_token", org, n.Kind, n.Code)
				}
				if got := !SignInSpans(g); got != tt.wantEach {
					t.Errorf("%s: one sign-in per org = %v, want %v", org, got, tt.wantEach)
				}
			}
		})
	}

	// An account that signed in for sales before the note was learnt keeps
	// its refresh token for sales; finance signs in on its own instead of
	// trying it and being refused.
	held := conn(base+"token", "app-three", "", sales)
	if err := store.Put(held.Key(), &Grant{RefreshToken: "rt-three", RefreshResource: sales}); err != nil {
		t.Fatal(err)
	}
	r := NewGrantReader(store)
	for org, want := range map[string]ReasonCode{sales: ReasonNoTokenForOrg, finance: ReasonRefreshNotShared} {
		c := conn(base+"token", "app-three", "", org)
		g := r.Grant(c.Key())
		if n := Decide(c, g, testNow, Situation{}); n.Code != want {
			t.Errorf("account holding sales' refresh token, %s: need %s/%s, want %s", org, n.Kind, n.Code, want)
		}
		if org == sales && g.refreshFor(org) != "rt-three" {
			t.Error("the account's refresh token no longer serves the org it came from")
		}
	}

	// Logging out the account that learnt it keeps the authority's note;
	// forgetting the authorities (logout -all) drops it.
	if err := store.Delete(first.Key()); err != nil {
		t.Fatal(err)
	}
	other := conn(base+"token", "app-two", "", sales)
	if SignInSpans(NewGrantReader(store).Grant(other.Key())) {
		t.Error("logging out one account forgot the authority's note")
	}
	forgot, err := ForgetAuthorities(store, []string{other.Key(), first.Key()})
	if err != nil || len(forgot) != 1 {
		t.Fatalf("ForgetAuthorities = %q, %v; want the one authority", forgot, err)
	}
	if !SignInSpans(NewGrantReader(store).Grant(other.Key())) {
		t.Error("logout -all kept the authority's note")
	}
}

// TestOldPerAccountNoteStillRead: a grant that carries the note itself
// (written before connform kept it per authority) still predicts per-org
// sign-ins, and the token source teaches it to the authority.
func TestOldPerAccountNoteStillRead(t *testing.T) {
	const sales, finance = "https://sales.crm.dynamics.com", "https://finance.crm.dynamics.com"
	tokenURL := "https://login.example/tenant/oauth2/v2.0/token"
	c := Conn{Addr: "connection.crm", Resource: finance, TokenURL: tokenURL, ClientID: "app-one",
		Scopes: []string{finance + "/user_impersonation"}}
	store := NewMemoryStore()
	if err := store.Put(c.Key(), &Grant{RefreshPerResource: "2026-11-27 11:00 UTC: invalid_scope",
		Access: map[string]*AccessToken{sales: {RefreshToken: "rt-sales"}}}); err != nil {
		t.Fatal(err)
	}
	if SignInSpans(NewGrantReader(store).Grant(c.Key())) {
		t.Fatal("the per-account note is no longer read")
	}
	src := &Source{Store: store, Flow: testFlow(nil), Now: func() time.Time { return testNow }}
	if _, err := src.Token(context.Background(), c, nil); err == nil {
		t.Fatal("finance had no token of its own and input is disabled, yet a token came")
	}
	other := Conn{Resource: sales, TokenURL: tokenURL, ClientID: "app-two"}
	if SignInSpans(NewGrantReader(store).Grant(other.Key())) {
		t.Error("the per-account note did not reach the authority")
	}
}
