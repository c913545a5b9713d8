package emulator_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"connform/emulator"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// signedIn redeems an auto-approved code for org1 with offline_access and
// returns the token response.
func signedIn(t *testing.T, info emulator.Info) map[string]any {
	t.Helper()
	redirect := "http://localhost:8400/"
	code, verifier := autoCode(t, info, redirect, info.Orgs[0].URL+"/user_impersonation", "offline_access")
	status, raw, body := post(t, info.TokenURL, url.Values{
		"grant_type": {"authorization_code"}, "client_id": {app(t, info, emulator.PublicApp).ClientID},
		"code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier},
	}, nil)
	if status != http.StatusOK || body["refresh_token"] == nil {
		t.Fatalf("redeeming the code: %d %s", status, raw)
	}
	return body
}

func refreshForm(info emulator.Info, clientID, rt, scope string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "refresh_token": {rt}, "scope": {scope}}
}

// TestRefreshRotatesAndCrossesOrgs: one refresh token serves every org of
// the tenant, and each use replaces it.
func TestRefreshRotatesAndCrossesOrgs(t *testing.T) {
	e, info := start(t, emulator.Options{AutoApprove: true})
	pub := app(t, info, emulator.PublicApp).ClientID
	org1, org2 := info.Orgs[0], info.Orgs[1]
	first := signedIn(t, info)
	rt1 := first["refresh_token"].(string)

	status, raw, second := post(t, info.TokenURL, refreshForm(info, pub, rt1, org2.URL+"/user_impersonation offline_access"), nil)
	if status != http.StatusOK {
		t.Fatalf("refresh for org2: %d %s", status, raw)
	}
	rt2, _ := second["refresh_token"].(string)
	if rt2 == "" || rt2 == rt1 {
		t.Fatalf("refresh did not rotate the refresh token")
	}
	if second["scope"] != org2.URL+"/user_impersonation" {
		t.Errorf("scope = %v, want org2's", second["scope"])
	}
	at2 := second["access_token"].(string)
	if status, _, _ := whoAmI(t, org2.URL, at2); status != http.StatusOK {
		t.Errorf("org2 token at org2: %d, want 200", status)
	}
	if status, _, _ := whoAmI(t, org1.URL, at2); status != http.StatusUnauthorized {
		t.Errorf("org2 token at org1: %d, want 401", status)
	}

	// The replaced token is dead; the newest works, also without a scope
	// (then the previous grant's scope applies).
	status, raw, _ = post(t, info.TokenURL, refreshForm(info, pub, rt1, org1.URL+"/user_impersonation"), nil)
	wantEntraError(t, 400, raw, status, "invalid_grant", 70008)
	f := refreshForm(info, pub, rt2, "")
	f.Del("scope")
	status, raw, third := post(t, info.TokenURL, f, nil)
	if status != http.StatusOK || third["scope"] != org2.URL+"/user_impersonation" {
		t.Fatalf("refresh with the newest token: %d %s", status, raw)
	}
	if n := e.Stats().Tokens["refresh_token"]; n != 2 {
		t.Errorf("Stats().Tokens[refresh_token] = %d, want 2", n)
	}
	if n := e.Stats().SignIns; n != 1 {
		t.Errorf("refreshes counted as sign-ins: %d, want 1", n)
	}
}

// TestRefreshFailures: the ways a stored refresh token stops working.
func TestRefreshFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(e *emulator.Emulator)
		client func(info emulator.Info) url.Values // client auth fields
		status int
		err    string
		code   int
	}{
		{"idle 91 days", func(e *emulator.Emulator) { e.Advance(91 * 24 * time.Hour) }, nil, 400, "invalid_grant", 700082},
		{"revoked", func(e *emulator.Emulator) { e.RevokeRefreshTokens() }, nil, 400, "invalid_grant", 70008},
		{"another client", nil, func(info emulator.Info) url.Values {
			a, _ := info.App(emulator.ConfidentialApp)
			return url.Values{"client_id": {a.ClientID}, "client_secret": {a.ClientSecret}}
		}, 400, "invalid_grant", 70000},
		{"public client sending a secret", nil, func(info emulator.Info) url.Values {
			a, _ := info.App(emulator.PublicApp)
			return url.Values{"client_id": {a.ClientID}, "client_secret": {"anything"}}
		}, 401, "invalid_client", 700025},
		{"scopes of another tenant's resource", nil, nil, 400, "invalid_resource", 500011},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, info := start(t, emulator.Options{AutoApprove: true})
			rt := signedIn(t, info)["refresh_token"].(string)
			if tc.before != nil {
				tc.before(e)
			}
			f := refreshForm(info, app(t, info, emulator.PublicApp).ClientID, rt, info.Orgs[1].URL+"/user_impersonation")
			if tc.code == 500011 {
				f.Set("scope", "https://contoso.crm4.dynamics.com/user_impersonation")
			}
			if tc.client != nil {
				for k, v := range tc.client(info) {
					f[k] = v
				}
			}
			status, raw, _ := post(t, info.TokenURL, f, nil)
			wantEntraError(t, tc.status, raw, status, tc.err, tc.code)
			if strings.Contains(raw, rt) {
				t.Errorf("the error repeats the refresh token")
			}
		})
	}
}

// TestRefreshStaysValidWhileUsed: the 90 days are an idle limit.
func TestRefreshStaysValidWhileUsed(t *testing.T) {
	e, info := start(t, emulator.Options{AutoApprove: true})
	pub := app(t, info, emulator.PublicApp).ClientID
	rt := signedIn(t, info)["refresh_token"].(string)
	for range 3 {
		e.Advance(60 * 24 * time.Hour)
		status, raw, body := post(t, info.TokenURL, refreshForm(info, pub, rt, info.Orgs[0].URL+"/user_impersonation"), nil)
		if status != http.StatusOK {
			t.Fatalf("refresh after 60 idle days: %d %s", status, raw)
		}
		rt = body["refresh_token"].(string)
	}
}

// TestClientCredentials drives the app-only flow with x/oauth2's
// clientcredentials package, in both client authentication styles.
func TestClientCredentials(t *testing.T) {
	for _, tc := range []struct {
		name      string
		app       string
		secret    func(a emulator.App) string
		scope     func(org string) string
		style     oauth2.AuthStyle
		err       string // "" for success
		code      int
		whoAmI    int
		wantInErr string
	}{
		{"secret in body", emulator.ConfidentialApp, nil, nil, oauth2.AuthStyleInParams, "", 0, 200, ""},
		{"secret in Basic header", emulator.ConfidentialApp, nil, nil, oauth2.AuthStyleInHeader, "", 0, 200, ""},
		{"no application user in the org", emulator.NoAppUserApp, nil, nil, oauth2.AuthStyleInParams, "", 0, 403, ""},
		{"wrong secret", emulator.ConfidentialApp, func(emulator.App) string { return "9b2c6f1e-secret-id-not-value" }, nil, oauth2.AuthStyleInParams, "invalid_client", 7000215, 0, "not the client secret ID"},
		{"no secret", emulator.ConfidentialApp, func(emulator.App) string { return "" }, nil, oauth2.AuthStyleInParams, "invalid_client", 7000218, 0, "client_secret"},
		{"delegated scope", emulator.ConfidentialApp, nil, func(org string) string { return org + "/user_impersonation" }, oauth2.AuthStyleInParams, "invalid_scope", 1002012, 0, "/.default"},
		{"public app", emulator.PublicApp, nil, nil, oauth2.AuthStyleInParams, "unauthorized_client", 7000218, 0, ""},
		{"unknown resource", emulator.ConfidentialApp, nil, func(string) string { return "https://contoso.crm4.dynamics.com/.default" }, oauth2.AuthStyleInParams, "invalid_resource", 500011, 0, "contoso.crm4.dynamics.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, info := start(t, emulator.Options{})
			a := app(t, info, tc.app)
			org := info.Orgs[1]
			cfg := clientcredentials.Config{
				ClientID: a.ClientID, ClientSecret: a.ClientSecret, TokenURL: info.TokenURL,
				Scopes: []string{org.URL + "/.default"}, AuthStyle: tc.style,
			}
			if tc.secret != nil {
				cfg.ClientSecret = tc.secret(a)
			}
			if tc.scope != nil {
				cfg.Scopes = []string{tc.scope(org.URL)}
			}
			tok, err := cfg.Token(ctx)
			if tc.err != "" {
				var re *oauth2.RetrieveError
				if !errors.As(err, &re) {
					t.Fatalf("got %v, want %s AADSTS%d", err, tc.err, tc.code)
				}
				wantStatus := http.StatusBadRequest
				if tc.err == "invalid_client" {
					wantStatus = http.StatusUnauthorized
				}
				b := wantEntraError(t, wantStatus, string(re.Body), re.Response.StatusCode, tc.err, tc.code)
				if !strings.Contains(b.Description, tc.wantInErr) {
					t.Errorf("description %q lacks %q", b.Description, tc.wantInErr)
				}
				if a.ClientSecret != "" && strings.Contains(string(re.Body), a.ClientSecret) {
					t.Error("the error repeats the client secret")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken != "" || tok.Extra("scope") != org.URL+"/.default" {
				t.Errorf("app token: refresh token %v, scope %v; want none and %s/.default", tok.RefreshToken != "", tok.Extra("scope"), org.URL)
			}
			status, _, body := whoAmI(t, org.URL, tok.AccessToken)
			if status != tc.whoAmI {
				t.Fatalf("WhoAmI: %d %v, want %d", status, body, tc.whoAmI)
			}
			if status == http.StatusForbidden {
				if code, msg := odataError(body); code == "" || msg != "The user is not a member of the organization." {
					t.Errorf("403 body %v", body)
				}
				return
			}
			// The application user's id is stable across calls.
			_, _, again := whoAmI(t, org.URL, tok.AccessToken)
			if body["UserId"] != again["UserId"] || body["OrganizationId"] != again["OrganizationId"] {
				t.Errorf("WhoAmI changed between calls: %v then %v", body, again)
			}
			if n := e.Stats().Tokens["client_credentials"]; n != 1 {
				t.Errorf("Stats().Tokens[client_credentials] = %d, want 1", n)
			}
		})
	}
}

// TestErrorCorrelation: Entra echoes the caller's client-request-id as the
// correlation id, which is how a user matches a failure to Entra's logs.
func TestErrorCorrelation(t *testing.T) {
	_, info := start(t, emulator.Options{})
	a := app(t, info, emulator.ConfidentialApp)
	id := "2f4c7c7d-9a9b-4c53-8d7e-2e1d5c3b0a11"
	status, raw, _ := post(t, info.TokenURL, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {a.ClientID}, "client_secret": {"wrong"}, "scope": {info.Orgs[0].URL + "/.default"},
	}, http.Header{"Client-Request-Id": {id}})
	b := wantEntraError(t, 401, raw, status, "invalid_client", 7000215)
	if b.CorrelationID != id || !strings.Contains(b.Description, "Correlation ID: "+id) {
		t.Errorf("correlation id %q, description %q; want %s in both", b.CorrelationID, b.Description, id)
	}
}

// TestTokenEndpointRequests: malformed requests and the tenant check.
func TestTokenEndpointRequests(t *testing.T) {
	_, info := start(t, emulator.Options{})
	a := app(t, info, emulator.ConfidentialApp)
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {a.ClientID}, "client_secret": {a.ClientSecret}, "scope": {info.Orgs[0].URL + "/.default"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	for _, tc := range []struct {
		name     string
		tokenURL string
		form     url.Values
		status   int
		err      string
		code     int
	}{
		{"unknown tenant", strings.Replace(info.TokenURL, info.TenantID, "00000000-0000-0000-0000-000000000001", 1), good, 400, "invalid_request", 90002},
		{"common with a single-tenant app", strings.Replace(info.TokenURL, info.TenantID, "common", 1), good, 400, "invalid_request", 50194},
		{"unknown client", info.TokenURL, with("client_id", "00000000-0000-0000-0000-000000000002"), 400, "unauthorized_client", 700016},
		{"no grant type", info.TokenURL, with("grant_type", ""), 400, "invalid_request", 900144},
		{"device code not offered", info.TokenURL, with("grant_type", "password"), 400, "unsupported_grant_type", 70003},
		// MSAL adds openid, offline_access and profile to client credential
		// requests and Entra ignores them, so two resources make the case.
		{"two scopes", info.TokenURL, with("scope", info.Orgs[0].URL+"/.default "+info.Orgs[1].URL+"/.default"), 400, "invalid_scope", 1002012},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw, _ := post(t, tc.tokenURL, tc.form, nil)
			wantEntraError(t, tc.status, raw, status, tc.err, tc.code)
		})
	}
	// The domain name works as the tenant, as at Entra.
	if status, raw, _ := post(t, strings.Replace(info.TokenURL, info.TenantID, "contoso.example", 1), good, nil); status != http.StatusOK {
		t.Errorf("tenant by domain: %d %s", status, raw)
	}
}

// TestDiscovery: the OpenID configuration names the endpoints clients use.
func TestDiscovery(t *testing.T) {
	_, info := start(t, emulator.Options{})
	resp, err := http.Get(info.Authority + "/" + info.TenantID + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 {
		t.Fatalf("discovery: %s, %v", resp.Status, err)
	}
	for k, want := range map[string]string{
		"issuer":                 info.Authority + "/" + info.TenantID + "/v2.0",
		"authorization_endpoint": info.AuthorizationURL,
		"token_endpoint":         info.TokenURL,
	} {
		if doc[k] != want {
			t.Errorf("%s = %v, want %s", k, doc[k], want)
		}
	}

	resp, err = http.Get(info.Authority + "/not-a-tenant/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	b2 := wantEntraError(t, 400, b.String(), resp.StatusCode, "invalid_request", 90002)
	if !strings.Contains(b2.Description, "Tenant 'not-a-tenant' not found") {
		t.Errorf("description %q does not name the tenant", b2.Description)
	}
}
