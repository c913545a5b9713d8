package emulator_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"connform/emulator"
	"golang.org/x/oauth2"
)

// TestAuthCodePKCEFlow signs in as a client would: x/oauth2 builds the
// authorize URL, CompleteSignIn plays the browser, the loopback listener
// gets the code, x/oauth2 redeems it, and the token opens WhoAmI.
func TestAuthCodePKCEFlow(t *testing.T) {
	for _, tc := range []struct {
		name        string
		autoApprove bool
		mode        string
	}{
		{"sign-in page, query", false, ""},
		{"sign-in page, form_post", false, "form_post"},
		{"auto-approve, query", true, "query"},
		{"auto-approve, form_post", true, "form_post"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, info := start(t, emulator.Options{AutoApprove: tc.autoApprove})
			org := info.Orgs[0]
			lis := catchRedirect(t)
			cfg := publicConfig(info, lis.URL, org.URL+"/user_impersonation", "offline_access", "openid")
			verifier := oauth2.GenerateVerifier()
			opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", info.User)}
			if tc.mode != "" {
				opts = append(opts, oauth2.SetAuthURLParam("response_mode", tc.mode))
			}
			if err := emulator.CompleteSignIn(ctx, http.DefaultClient, cfg.AuthCodeURL("xyz", opts...)); err != nil {
				t.Fatal(err)
			}
			got := lis.received(t)
			if got.Get("state") != "xyz" || got.Get("code") == "" {
				t.Fatalf("listener got %v; want a code and state xyz", got)
			}
			tok, err := cfg.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Extra("scope") != org.URL+"/user_impersonation" {
				t.Errorf("token type %q, refresh token set %v, scope %q", tok.TokenType, tok.RefreshToken != "", tok.Extra("scope"))
			}
			if n, _ := tok.Extra("expires_in").(float64); n != 3600 {
				t.Errorf("expires_in = %v, want 3600", tok.Extra("expires_in"))
			}
			idToken, _ := tok.Extra("id_token").(string)
			if strings.Count(idToken, ".") != 2 {
				t.Errorf("id_token %q is not a JWT", idToken)
			}
			var ci struct{ UID, UTID string }
			raw, _ := base64.RawURLEncoding.DecodeString(tok.Extra("client_info").(string))
			if err := json.Unmarshal(raw, &ci); err != nil || ci.UTID != info.TenantID || ci.UID == "" {
				t.Errorf("client_info %s: want uid and utid %s", raw, info.TenantID)
			}

			status, _, body := whoAmI(t, org.URL, tok.AccessToken)
			if status != http.StatusOK {
				t.Fatalf("WhoAmI: %d %v", status, body)
			}
			if body["@odata.context"] != org.URL+"/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse" {
				t.Errorf("@odata.context = %v", body["@odata.context"])
			}
			for _, k := range []string{"BusinessUnitId", "UserId", "OrganizationId"} {
				if s, _ := body[k].(string); len(s) != 36 {
					t.Errorf("%s = %v, want a GUID", k, body[k])
				}
			}
			s := e.Stats()
			if s.SignIns != 1 || s.Tokens["authorization_code"] != 1 || s.WhoAmI != 1 {
				t.Errorf("stats = %+v, want 1 sign-in, 1 code redemption, 1 WhoAmI", s)
			}

			// The code is single use.
			_, err = cfg.Exchange(ctx, got.Get("code"), oauth2.VerifierOption(verifier))
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || !strings.Contains(string(re.Body), "AADSTS54005") {
				t.Errorf("second redemption: %v; want invalid_grant AADSTS54005", err)
			}
		})
	}
}

// TestCodeRedemptionErrors covers what binds a code: its verifier, its
// redirect URI, its client, its single use and its ten-minute life.
func TestCodeRedemptionErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		change   func(form url.Values, e *emulator.Emulator, info emulator.Info)
		status   int
		err      string
		code     int
		redeemed bool // redeem once successfully before
	}{
		{"verifier mismatch", func(f url.Values, _ *emulator.Emulator, _ emulator.Info) {
			f.Set("code_verifier", oauth2.GenerateVerifier())
		}, 400, "invalid_grant", 501481, false},
		{"verifier missing", func(f url.Values, _ *emulator.Emulator, _ emulator.Info) { f.Del("code_verifier") }, 400, "invalid_grant", 501481, false},
		{"another redirect URI", func(f url.Values, _ *emulator.Emulator, _ emulator.Info) {
			f.Set("redirect_uri", "http://localhost:1/other")
		}, 400, "invalid_grant", 500112, false},
		{"another client", func(f url.Values, _ *emulator.Emulator, info emulator.Info) {
			a, _ := info.App(emulator.ConfidentialApp)
			f.Set("client_id", a.ClientID)
			f.Set("client_secret", a.ClientSecret)
		}, 400, "invalid_grant", 70000, false},
		{"already redeemed", func(url.Values, *emulator.Emulator, emulator.Info) {}, 400, "invalid_grant", 54005, true},
		{"eleven minutes later", func(_ url.Values, e *emulator.Emulator, _ emulator.Info) { e.Advance(11 * time.Minute) }, 400, "invalid_grant", 70008, false},
		{"unknown code", func(f url.Values, _ *emulator.Emulator, _ emulator.Info) { f.Set("code", "0.EMU.nonsense") }, 400, "invalid_grant", 9002313, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, info := start(t, emulator.Options{AutoApprove: true})
			redirect := "http://localhost:8400/"
			code, verifier := autoCode(t, info, redirect, info.Orgs[0].URL+"/user_impersonation")
			form := url.Values{
				"grant_type": {"authorization_code"}, "client_id": {app(t, info, emulator.PublicApp).ClientID},
				"code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier},
			}
			if tc.redeemed {
				if status, raw, _ := post(t, info.TokenURL, form, nil); status != 200 {
					t.Fatalf("first redemption: %d %s", status, raw)
				}
			}
			tc.change(form, e, info)
			status, raw, _ := post(t, info.TokenURL, form, nil)
			wantEntraError(t, tc.status, raw, status, tc.err, tc.code)
			if strings.Contains(raw, code) || strings.Contains(raw, verifier) {
				t.Errorf("the error repeats the code or the verifier: %s", raw)
			}
		})
	}
}

// TestAuthorizeRejections: errors Entra shows on its own page (the app is
// not trusted yet) come back from CompleteSignIn with the page's text;
// errors after the redirect URI is trusted go to the app with the state.
func TestAuthorizeRejections(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(q url.Values, info emulator.Info, lis *catcher)
		code   string // AADSTS code in the error
		toApp  string // the error the app receives; "" when shown on the page
	}{
		{"unknown client", func(q url.Values, _ emulator.Info, _ *catcher) {
			q.Set("client_id", "11111111-2222-3333-4444-555555555555")
		}, "AADSTS700016", ""},
		{"redirect on 127.0.0.1", func(q url.Values, _ emulator.Info, lis *catcher) {
			q.Set("redirect_uri", strings.Replace(lis.URL, "localhost", "127.0.0.1", 1))
		}, "AADSTS50011", ""},
		{"redirect with https", func(q url.Values, _ emulator.Info, lis *catcher) {
			q.Set("redirect_uri", strings.Replace(lis.URL, "http:", "https:", 1))
		}, "AADSTS50011", ""},
		{"redirect with another path", func(q url.Values, _ emulator.Info, lis *catcher) { q.Set("redirect_uri", lis.URL+"callback") }, "AADSTS50011", ""},
		{"unknown tenant", func(q url.Values, _ emulator.Info, _ *catcher) {}, "AADSTS90002", ""},
		{"scopes of two orgs", func(q url.Values, info emulator.Info, _ *catcher) {
			q.Set("scope", info.Orgs[0].URL+"/user_impersonation "+info.Orgs[1].URL+"/user_impersonation")
		}, "AADSTS28000", "invalid_scope"},
		{"unknown resource", func(q url.Values, _ emulator.Info, _ *catcher) {
			q.Set("scope", "https://nowhere.crm4.dynamics.com/user_impersonation offline_access")
		}, "AADSTS500011", "invalid_resource"},
		{"unknown permission", func(q url.Values, info emulator.Info, _ *catcher) { q.Set("scope", info.Orgs[0].URL+"/Files.Read") }, "AADSTS70011", "invalid_scope"},
		{"public client without PKCE", func(q url.Values, _ emulator.Info, _ *catcher) {
			q.Del("code_challenge")
			q.Del("code_challenge_method")
		}, "AADSTS9002325", "invalid_request"},
		{"silent sign-in without a session", func(q url.Values, _ emulator.Info, _ *catcher) { q.Set("prompt", "none") }, "AADSTS50058", "login_required"},
		{"account not in the tenant", func(q url.Values, _ emulator.Info, _ *catcher) { q.Set("login_hint", "sam@elsewhere.example") }, "AADSTS50034", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, info := start(t, emulator.Options{})
			lis := catchRedirect(t)
			cfg := publicConfig(info, lis.URL, info.Orgs[0].URL+"/user_impersonation", "offline_access")
			u, _ := url.Parse(cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			q := u.Query()
			tc.change(q, info, lis)
			u.RawQuery = q.Encode()
			if tc.name == "unknown tenant" {
				u.Path = strings.Replace(u.Path, info.TenantID, "contoso.onmicrosoft.com", 1)
			}
			err := emulator.CompleteSignIn(ctx, nil, u.String())
			if err == nil || !strings.Contains(err.Error(), tc.code) {
				t.Fatalf("CompleteSignIn: %v; want an error with %s", err, tc.code)
			}
			if tc.toApp == "" {
				select {
				case v := <-lis.got:
					t.Errorf("the app received %v, but the error belongs on Entra's page", v)
				default:
				}
			} else {
				got := lis.received(t)
				if got.Get("error") != tc.toApp || got.Get("state") != "st-1" || !strings.HasPrefix(got.Get("error_description"), tc.code+": ") {
					t.Errorf("the app received %v; want error %s with %s and state st-1", got, tc.toApp, tc.code)
				}
			}
			if n := e.Stats().SignIns; n != 0 {
				t.Errorf("%d sign-ins counted for a rejected request", n)
			}
		})
	}
}

// TestRedirectMismatchPage checks the page a user sees, as a browser shows
// it: Entra's title and the AADSTS50011 text naming the redirect.
func TestRedirectMismatchPage(t *testing.T) {
	_, info := start(t, emulator.Options{})
	cfg := publicConfig(info, "http://127.0.0.1:5000/", info.Orgs[0].URL+"/user_impersonation")
	resp, err := http.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	page := b.String()
	for _, want := range []string{"<title>Sign in to your account</title>", "AADSTS50011: The redirect URI &#39;http://127.0.0.1:5000/&#39; specified in the request does not match"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %s, want 400", resp.Status)
	}
}

// TestRedirectMatching: the loopback rule accepts any port and treats an
// empty path as "/", and the code goes back with the trailing slash.
func TestRedirectMatching(t *testing.T) {
	_, info := start(t, emulator.Options{AutoApprove: true})
	for _, tc := range []struct{ redirect, wantBack string }{
		{"http://localhost:8400", "http://localhost:8400/"},
		{"http://localhost/", "http://localhost/"},
		{"http://LOCALHOST:9/", "http://LOCALHOST:9/"},
	} {
		cfg := publicConfig(info, tc.redirect, info.Orgs[0].URL+"/.default")
		resp, err := noRedirects.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
			t.Errorf("%s: answered %s; want a redirect with a code", tc.redirect, resp.Status)
			continue
		}
		if back := loc.Scheme + "://" + loc.Host + loc.Path; back != tc.wantBack {
			t.Errorf("%s: answer went to %s, want %s", tc.redirect, back, tc.wantBack)
		}
	}
}

// TestSignInPage: what a person sees without AutoApprove.
func TestSignInPage(t *testing.T) {
	_, info := start(t, emulator.Options{})
	cfg := publicConfig(info, "http://localhost/", info.Orgs[0].URL+"/user_impersonation")
	resp, err := http.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	for _, want := range []string{"<title>Sign in to your account</title>", emulator.PublicApp, info.User, `<button id="signin" type="submit">Sign in</button>`, `method="post"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("sign-in page lacks %q", want)
		}
	}
}

// TestCompleteSignInDeliveryFailure: when nothing listens at the redirect
// URI, CompleteSignIn says so without showing the code it carried.
func TestCompleteSignInDeliveryFailure(t *testing.T) {
	e, info := start(t, emulator.Options{})
	// Nothing listens on port 1 (a privileged port no test server takes).
	cfg := publicConfig(info, "http://localhost:1/", info.Orgs[0].URL+"/user_impersonation")
	err := emulator.CompleteSignIn(ctx, nil, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err == nil {
		t.Fatal("CompleteSignIn succeeded with nothing listening at the redirect URI")
	}
	if !strings.Contains(err.Error(), "http://localhost:1/") {
		t.Errorf("error %q does not name the redirect URI", err)
	}
	for _, s := range e.IssuedSecrets() {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q holds a secret", err)
		}
	}
	if strings.Contains(err.Error(), "code=") {
		t.Errorf("error %q shows the query", err)
	}
}
