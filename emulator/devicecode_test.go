package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"connform/emulator"
)

// startDevice asks the device code endpoint for a code for org1.
func startDevice(t *testing.T, info emulator.Info, clientID string) map[string]any {
	t.Helper()
	deviceURL := strings.Replace(info.TokenURL, "/token", "/devicecode", 1)
	status, raw, body := post(t, deviceURL, url.Values{
		"client_id": {clientID}, "scope": {info.Orgs[0].URL + "/user_impersonation offline_access"},
	}, nil)
	if status != http.StatusOK {
		t.Fatalf("device code request: %d %s", status, raw)
	}
	return body
}

func pollForm(clientID, deviceCode, grant string) url.Values {
	return url.Values{"grant_type": {grant}, "client_id": {clientID}, "device_code": {deviceCode}}
}

// TestDeviceCodeFlow: pending until the user approves on the verification
// page, slow_down when polled early, then tokens with a refresh token; the
// approval counts as a sign-in.
func TestDeviceCodeFlow(t *testing.T) {
	for _, grant := range []string{"urn:ietf:params:oauth:grant-type:device_code", "device_code"} {
		t.Run(grant, func(t *testing.T) {
			e, info := start(t, emulator.Options{})
			pub := app(t, info, emulator.PublicApp).ClientID
			d := startDevice(t, info, pub)
			dc, uc := d["device_code"].(string), d["user_code"].(string)
			if d["verification_uri"] != info.Authority+"/devicelogin" || d["interval"] != 5.0 || d["expires_in"] != 900.0 ||
				!strings.Contains(d["message"].(string), uc) {
				t.Fatalf("device code response %v", d)
			}
			if got := e.PendingUserCodes(); !slices.Equal(got, []string{uc}) {
				t.Errorf("PendingUserCodes = %v, want [%s]", got, uc)
			}

			status, raw, _ := post(t, info.TokenURL, pollForm(pub, dc, grant), nil)
			wantEntraError(t, 400, raw, status, "authorization_pending", 70016)
			status, raw, _ = post(t, info.TokenURL, pollForm(pub, dc, grant), nil)
			wantEntraError(t, 400, raw, status, "slow_down", 70016)
			e.Advance(5 * time.Second)
			status, raw, _ = post(t, info.TokenURL, pollForm(pub, dc, grant), nil)
			wantEntraError(t, 400, raw, status, "authorization_pending", 70016)

			if err := emulator.ApproveDeviceCode(context.Background(), nil, d["verification_uri"].(string), strings.ToLower(uc)); err != nil {
				t.Fatal(err)
			}
			e.Advance(5 * time.Second)
			status, raw, tok := post(t, info.TokenURL, pollForm(pub, dc, grant), nil)
			if status != http.StatusOK || tok["refresh_token"] == nil || tok["scope"] != info.Orgs[0].URL+"/user_impersonation" {
				t.Fatalf("after approval: %d %s", status, raw)
			}
			if s, _, _ := whoAmI(t, info.Orgs[0].URL, tok["access_token"].(string)); s != http.StatusOK {
				t.Errorf("WhoAmI with the device token: %d", s)
			}
			st := e.Stats()
			if st.SignIns != 1 || st.Tokens["device_code"] != 1 {
				t.Errorf("stats %+v, want 1 sign-in and 1 device_code token", st)
			}
			if !slices.Contains(e.IssuedSecrets(), dc) {
				t.Error("IssuedSecrets does not list the device code")
			}
			status, raw, _ = post(t, info.TokenURL, pollForm(pub, dc, grant), nil)
			wantEntraError(t, 400, raw, status, "invalid_grant", 54005)
		})
	}
}

// TestDeviceCodeAutoApprove: with AutoApprove a device code stays pending
// for the announced delay, as a person typing it would leave it, then
// approves itself and counts as a sign-in: a headless run against
// `connform emulator -auto-approve` completes without anyone at a page.
func TestDeviceCodeAutoApprove(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration // Options.DeviceAutoApproveDelay
		want  time.Duration // when the code approves itself
	}{
		{"default delay", 0, emulator.DefaultDeviceAutoApproveDelay},
		{"chosen delay", 10 * time.Second, 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, info := start(t, emulator.Options{AutoApprove: true, DeviceAutoApproveDelay: tc.delay, DeviceCodeInterval: time.Second})
			pub := app(t, info, emulator.PublicApp).ClientID
			dc := startDevice(t, info, pub)["device_code"].(string)
			e.Advance(tc.want - time.Second)
			status, raw, _ := post(t, info.TokenURL, pollForm(pub, dc, "device_code"), nil)
			wantEntraError(t, 400, raw, status, "authorization_pending", 70016)
			if e.Stats().SignIns != 0 {
				t.Fatalf("approved %s early", time.Second)
			}
			e.Advance(time.Second)
			status, raw, tok := post(t, info.TokenURL, pollForm(pub, dc, "device_code"), nil)
			if status != http.StatusOK || tok["refresh_token"] == nil {
				t.Fatalf("after the delay: %d %s", status, raw)
			}
			if st := e.Stats(); st.SignIns != 1 {
				t.Errorf("SignIns = %d, want 1", st.SignIns)
			}
		})
	}
}

// TestDeviceCodeEnds: expiry, a declined request, and codes the page refuses.
func TestDeviceCodeEnds(t *testing.T) {
	e, info := start(t, emulator.Options{})
	pub := app(t, info, emulator.PublicApp).ClientID
	ctx := context.Background()
	verify := info.Authority + "/devicelogin"

	expired := startDevice(t, info, pub)
	e.Advance(16 * time.Minute)
	status, raw, _ := post(t, info.TokenURL, pollForm(pub, expired["device_code"].(string), "device_code"), nil)
	wantEntraError(t, 400, raw, status, "expired_token", 70020)
	err := emulator.ApproveDeviceCode(ctx, nil, verify, expired["user_code"].(string))
	if err == nil || !strings.Contains(err.Error(), "not valid or has expired") {
		t.Errorf("approving an expired code: %v", err)
	}

	declined := startDevice(t, info, pub)
	if err := emulator.DeclineDeviceCode(ctx, nil, verify, declined["user_code"].(string)); err != nil {
		t.Fatal(err)
	}
	status, raw, _ = post(t, info.TokenURL, pollForm(pub, declined["device_code"].(string), "device_code"), nil)
	wantEntraError(t, 400, raw, status, "authorization_declined", 70000)
	if err := emulator.ApproveDeviceCode(ctx, nil, verify, declined["user_code"].(string)); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Errorf("approving a declined code: %v", err)
	}

	other := startDevice(t, info, pub)
	conf := app(t, info, emulator.ConfidentialApp)
	f := pollForm(conf.ClientID, other["device_code"].(string), "device_code")
	f.Set("client_secret", conf.ClientSecret)
	status, raw, _ = post(t, info.TokenURL, f, nil)
	wantEntraError(t, 400, raw, status, "invalid_grant", 70000)

	if e.Stats().SignIns != 0 {
		t.Errorf("SignIns = %d, want 0: nothing was approved", e.Stats().SignIns)
	}
}

// TestDeviceCodeRequests: the endpoint validates like the token endpoint,
// and discovery names it.
func TestDeviceCodeRequests(t *testing.T) {
	_, info := start(t, emulator.Options{DeviceCodeInterval: time.Second})
	deviceURL := strings.Replace(info.TokenURL, "/token", "/devicecode", 1)
	pub := app(t, info, emulator.PublicApp).ClientID
	for _, tc := range []struct {
		name string
		form url.Values
		err  string
		code int
	}{
		{"no client", url.Values{"scope": {info.Orgs[0].URL + "/user_impersonation"}}, "invalid_request", 900144},
		{"unknown client", url.Values{"client_id": {"00000000-0000-0000-0000-000000000002"}, "scope": {info.Orgs[0].URL + "/user_impersonation"}}, "unauthorized_client", 700016},
		{"no resource", url.Values{"client_id": {pub}, "scope": {"offline_access"}}, "invalid_scope", 70011},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw, _ := post(t, deviceURL, tc.form, nil)
			wantEntraError(t, 400, raw, status, tc.err, tc.code)
		})
	}
	if d := startDevice(t, info, pub); d["interval"] != 1.0 {
		t.Errorf("interval = %v, want the configured 1", d["interval"])
	}
	resp, err := http.Get(info.Authority + "/" + info.TenantID + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	if doc["device_authorization_endpoint"] != deviceURL {
		t.Errorf("device_authorization_endpoint = %v, want %s", doc["device_authorization_endpoint"], deviceURL)
	}
}
