package emulator_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"connform/emulator"
)

// TestWhoAmIAuthentication: what Dynamics answers for each kind of bearer
// token, and the challenge that tells a client where to sign in.
func TestWhoAmIAuthentication(t *testing.T) {
	e, info := start(t, emulator.Options{AutoApprove: true})
	org1, org2 := info.Orgs[0], info.Orgs[1]
	at := signedIn(t, info)["access_token"].(string)
	for _, tc := range []struct {
		name    string
		url     string
		token   string
		advance time.Duration
		status  int
		code    string
		inMsg   string
	}{
		{"its own org's token", org1.URL + "/api/data/v9.2/WhoAmI", at, 0, 200, "", ""},
		{"WhoAmI() form", org1.URL + "/api/data/v9.2/WhoAmI()", at, 0, 200, "", ""},
		{"no token", org1.URL + "/api/data/v9.2/WhoAmI", "", 0, 401, "0x80072243", "no bearer token"},
		{"not a JWT", org1.URL + "/api/data/v9.2/WhoAmI", "not-a-token", 0, 401, "0x80072243", "not valid"},
		{"tampered token", org1.URL + "/api/data/v9.2/WhoAmI", at[:len(at)-4] + "AAAA", 0, 401, "0x80072243", "not valid"},
		{"another org's token", org2.URL + "/api/data/v9.2/WhoAmI", at, 0, 401, "0x80072243", org1.URL},
		{"unknown path", org1.URL + "/api/data/v9.2/Nonsense", at, 0, 404, "0x8006088a", "Nonsense"},
		{"unknown path without a token", org1.URL + "/api/data/v9.2/Nonsense", "", 0, 401, "0x80072243", ""},
		{"outside the Web API", org1.URL + "/main.aspx", at, 0, 404, "0x8006088a", ""},
		// Must be last: it moves the clock.
		{"an hour later", org1.URL + "/api/data/v9.2/WhoAmI", at, 61 * time.Minute, 401, "0x80072243", "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Advance(tc.advance)
			status, header, body := getAPI(t, tc.url, tc.token)
			if status != tc.status {
				t.Fatalf("status %d %v, want %d", status, body, tc.status)
			}
			if tc.status == 200 {
				if body["OrganizationId"] == "" || body["UserId"] == "" {
					t.Errorf("body %v", body)
				}
				return
			}
			code, msg := odataError(body)
			if code != tc.code || !strings.Contains(msg, tc.inMsg) {
				t.Errorf("error %q %q, want %q containing %q", code, msg, tc.code, tc.inMsg)
			}
			if status == 401 {
				want := `authorization_uri="` + info.Authority + "/" + info.TenantID + `/oauth2/authorize"`
				if h := header.Get("WWW-Authenticate"); !strings.HasPrefix(h, `Bearer error="invalid_token"`) || !strings.Contains(h, want) {
					t.Errorf("WWW-Authenticate %q, want invalid_token and %s", h, want)
				}
			}
		})
	}
}

// TestWhoAmIIdentities: ids are stable per org and user, and differ
// between orgs and between the user and an app.
func TestWhoAmIIdentities(t *testing.T) {
	_, info := start(t, emulator.Options{AutoApprove: true})
	org1, org2 := info.Orgs[0], info.Orgs[1]
	first := signedIn(t, info)
	_, _, a := whoAmI(t, org1.URL, first["access_token"].(string))
	_, _, b := whoAmI(t, org1.URL, signedIn(t, info)["access_token"].(string))
	if a["UserId"] != b["UserId"] || a["BusinessUnitId"] != b["BusinessUnitId"] || a["OrganizationId"] != b["OrganizationId"] {
		t.Errorf("two sign-ins of one user saw different ids: %v, %v", a, b)
	}
	status, raw, r := post(t, info.TokenURL, refreshForm(info, app(t, info, emulator.PublicApp).ClientID, first["refresh_token"].(string), org2.URL+"/user_impersonation"), nil)
	if status != 200 {
		t.Fatalf("refresh: %s", raw)
	}
	_, _, c := whoAmI(t, org2.URL, r["access_token"].(string))
	if c["OrganizationId"] == a["OrganizationId"] || c["UserId"] == a["UserId"] {
		t.Errorf("org1 and org2 share ids: %v, %v", a, c)
	}
}

// TestInfoJSON: the first line of `connform emulator` is a contract.
func TestInfoJSON(t *testing.T) {
	_, info := start(t, emulator.Options{Orgs: 3})
	raw, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Authority        string `json:"authority"`
		TenantID         string `json:"tenant_id"`
		AuthorizationURL string `json:"authorization_url"`
		TokenURL         string `json:"token_url"`
		User             string `json:"user"`
		Apps             []map[string]any
		Orgs             []map[string]string
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(m.Authority, "http://127.0.0.1:") || m.AuthorizationURL != m.Authority+"/"+m.TenantID+"/oauth2/v2.0/authorize" ||
		m.TokenURL != m.Authority+"/"+m.TenantID+"/oauth2/v2.0/token" || m.User != emulator.TestUser {
		t.Errorf("info %s", raw)
	}
	if len(m.Orgs) != 3 || m.Orgs[2]["name"] != "org3" || !strings.HasPrefix(m.Orgs[2]["url"], "http://127.0.0.1:") {
		t.Errorf("orgs %v", m.Orgs)
	}
	for _, a := range m.Apps {
		_, hasSecret := a["client_secret"]
		if a["public"] == true && hasSecret || a["public"] == false && !hasSecret || a["redirect"] != "http://localhost" || a["client_id"] == "" {
			t.Errorf("app %v", a)
		}
	}
}

// TestLogsHoldNoSecrets runs every flow with a request log and looks for
// secrets, codes and tokens in it; IssuedSecrets, which other tests use
// to search their output, must know them all.
func TestLogsHoldNoSecrets(t *testing.T) {
	var log logBuffer
	e, info := start(t, emulator.Options{AutoApprove: true, Logf: log.Logf})
	conf := app(t, info, emulator.ConfidentialApp)
	code, verifier := autoCode(t, info, "http://localhost:8400/", info.Orgs[0].URL+"/user_impersonation", "offline_access")
	_, _, tok := post(t, info.TokenURL, map[string][]string{
		"grant_type": {"authorization_code"}, "client_id": {app(t, info, emulator.PublicApp).ClientID},
		"code": {code}, "redirect_uri": {"http://localhost:8400/"}, "code_verifier": {verifier},
	}, nil)
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	whoAmI(t, info.Orgs[0].URL, at)
	post(t, info.TokenURL, refreshForm(info, app(t, info, emulator.PublicApp).ClientID, rt, info.Orgs[0].URL+"/.default"), nil)
	post(t, info.TokenURL, map[string][]string{"grant_type": {"client_credentials"}, "client_id": {conf.ClientID}, "client_secret": {conf.ClientSecret}, "scope": {info.Orgs[0].URL + "/.default"}}, nil)
	post(t, info.TokenURL, map[string][]string{"grant_type": {"client_credentials"}, "client_id": {conf.ClientID}, "client_secret": {conf.ClientSecret + "x"}, "scope": {info.Orgs[0].URL + "/.default"}}, nil)

	issued := e.IssuedSecrets()
	for name, secret := range map[string]string{"client secret": conf.ClientSecret, "code": code, "verifier": verifier, "access token": at, "refresh token": rt} {
		if secret != "" && !slices.Contains(issued, secret) {
			t.Errorf("IssuedSecrets lacks the %s", name)
		}
	}

	out := log.String()
	if !strings.Contains(out, "/oauth2/v2.0/token") || !strings.Contains(out, "AADSTS7000215") {
		t.Fatalf("the log does not show the requests:\n%s", out)
	}
	for name, secret := range map[string]string{"client secret": conf.ClientSecret, "code": code, "verifier": verifier, "access token": at, "refresh token": rt} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
}
