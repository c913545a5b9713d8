package auth_test

import (
	"testing"
	"time"

	"connform/auth"
)

// TestDecide: the decisions that plan, apply and auth status share, for the
// grant states whose rules are subtle: narrower scopes (accepted or not),
// per-org refresh tokens, changed credentials and identities.
func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	org, other := "https://sales.crm4.dynamics.com", "https://finance.crm4.dynamics.com"
	want := []string{org + "/user_impersonation", org + "/Extra.Read", "offline_access"}
	user := auth.Conn{Addr: "connection.sales", Resource: org, TokenURL: "https://login.example/t/oauth2/v2.0/token", ClientID: "app", Scopes: want}
	app := user
	app.GrantType, app.ClientSecret, app.Scopes = auth.GrantClientCredentials, "s", []string{org + "/.default"}
	cert := app
	cert.GrantType, cert.AuthenticationMethod, cert.ClientSecret = "", auth.MethodClientCertificate, ""
	narrow := func(accepted bool, requested []string) *auth.Grant {
		return &auth.Grant{RefreshToken: "rt", Access: map[string]*auth.AccessToken{org: {
			Token: "at", Expiry: now.Add(time.Hour), Scopes: []string{org + "/user_impersonation"}, Requested: requested, Accepted: accepted}}}
	}
	tests := []struct {
		name  string
		conn  auth.Conn
		grant *auth.Grant
		sit   auth.Situation
		kind  auth.NeedKind
		code  auth.ReasonCode
		text  string
	}{
		{"nothing stored", user, nil, auth.Situation{}, auth.NeedInteractive, auth.ReasonNoToken, "no token"},
		{"nothing stored after an identity change", user, nil, auth.Situation{Unstored: auth.ReasonIdentityChanged, UnstoredAttrs: []string{"client_id"}},
			auth.NeedInteractive, auth.ReasonIdentityChanged, "identity changed (client_id)"},
		{"narrower grant not accepted yet", user, narrow(false, want), auth.Situation{}, auth.NeedInteractive, auth.ReasonScopesNotGranted,
			"the provider granted fewer scopes than requested: " + org + "/Extra.Read not granted"},
		{"narrower grant an org accepted serves", user, narrow(true, want), auth.Situation{}, auth.NeedNothing, auth.ReasonValid, "token valid until 2026-11-27 13:00 UTC"},
		{"accepted for other scopes: refresh for these", user, narrow(true, want[:1]), auth.Situation{}, auth.NeedRefresh, auth.ReasonScopesChanged,
			"the stored token was had for other scopes; refreshing for these"},
		{"refresh token of the account covers a new org", user, &auth.Grant{RefreshToken: "rt"}, auth.Situation{}, auth.NeedRefresh, auth.ReasonNoTokenForOrg,
			"no token for this org yet; the account's refresh token covers it"},
		{"per-org refresh tokens: a new org signs in", user, &auth.Grant{RefreshPerResource: "2026-11-27 11:00 UTC: invalid_scope",
			Access: map[string]*auth.AccessToken{other: {RefreshToken: "rt-other"}}}, auth.Situation{}, auth.NeedInteractive, auth.ReasonRefreshNotShared,
			"this provider's refresh tokens serve one org each, so this org signs in on its own"},
		{"per-org refresh tokens: an org with its own refreshes", user, &auth.Grant{RefreshPerResource: "x",
			Access: map[string]*auth.AccessToken{org: {Expiry: now.Add(-time.Hour), Scopes: want, Requested: want, RefreshToken: "rt"}}},
			auth.Situation{}, auth.NeedRefresh, auth.ReasonExpired, "token expired; refreshing silently"},
		{"dropped refresh token", user, &auth.Grant{RefreshDropped: "2026-11-27 11:00 UTC: invalid_grant: AADSTS70008"}, auth.Situation{},
			auth.NeedInteractive, auth.ReasonRefreshFailed, "the account's refresh token was refused at 2026-11-27 11:00 UTC"},
		{"client secret changed: a valid token is not enough", app, &auth.Grant{Access: map[string]*auth.AccessToken{org: {Token: "at", Expiry: now.Add(time.Hour), Scopes: app.Scopes}}},
			auth.Situation{Changed: []string{"client_secret", "description"}}, auth.NeedClientSecret, auth.ReasonCredentialChanged, "client_secret changed; a new token proves it"},
		{"certificate: silent from the credential", cert, nil, auth.Situation{}, auth.NeedCredential, auth.ReasonNoToken, "no token; the app signs in with its certificate"},
		{"confidential user app's secret changed: a refresh proves it", func() auth.Conn { c := user; c.ClientSecret = "s"; return c }(), narrow(true, want),
			auth.Situation{Changed: []string{"client_secret"}}, auth.NeedRefresh, auth.ReasonCredentialChanged, "client_secret changed; a refresh with it proves it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := auth.Decide(tt.conn, tt.grant, now, tt.sit)
			if n.Kind != tt.kind || n.Code != tt.code || n.Text() != tt.text {
				t.Errorf("got %v %s %q, want %v %s %q", n.Kind, n.Code, n.Text(), tt.kind, tt.code, tt.text)
			}
			if (n.Kind == auth.NeedInteractive) != (n.Way != "") {
				t.Errorf("way %q for a %v need", n.Way, n.Kind)
			}
		})
	}
}
