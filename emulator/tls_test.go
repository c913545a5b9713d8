package emulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"connform/emulator"
)

func TestTLSServesHTTPSToClientsThatTrustIt(t *testing.T) {
	e, info := start(t, emulator.Options{TLS: true})
	if !strings.HasPrefix(info.Authority, "https://127.0.0.1:") || !strings.HasPrefix(info.Orgs[0].URL, "https://127.0.0.1:") {
		t.Fatalf("authority %s, org %s: want https on loopback", info.Authority, info.Orgs[0].URL)
	}
	if info.CACert == "" || info.CACert != string(e.CACertPEM()) {
		t.Errorf("Info.CACert does not carry the certificate")
	}
	disco := info.Authority + "/" + info.TenantID + "/v2.0/.well-known/openid-configuration"
	resp, err := e.HTTPClient().Get(disco)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("discovery over TLS answered %d", resp.StatusCode)
	}
	// A client without the certificate must refuse the emulator, or the
	// tests that trust it prove nothing.
	if _, err := (&http.Client{}).Get(disco); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusting client got %v, want a certificate error", err)
	}
}

func TestWithoutTLSNothingChanges(t *testing.T) {
	e, info := start(t, emulator.Options{})
	if !strings.HasPrefix(info.Authority, "http://") || info.CACert != "" || e.CertPool() != nil {
		t.Errorf("plain emulator: authority %s, CA %q", info.Authority, info.CACert)
	}
}

// The token endpoint authenticates federated apps by their external token:
// issuer, audience, subject and lifetime must all match.
func TestFederatedAssertion(t *testing.T) {
	e, info := start(t, emulator.Options{})
	scope := info.Orgs[0].URL + "/.default"
	form := func(clientID, assertion string) url.Values {
		return url.Values{
			"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {scope},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion},
		}
	}
	good := e.IssueFederatedToken(emulator.FederatedSubject)
	conf := app(t, info, emulator.ConfidentialApp)
	cases := []struct {
		name     string
		form     url.Values
		wantCode int // 0: success
	}{
		{"trusted subject", form(info.Native.FederatedClientID, good), 0},
		{"other subject", form(info.Native.FederatedClientID, e.IssueFederatedToken("system:serviceaccount:x:y")), 700213},
		{"not a federated token", form(info.Native.FederatedClientID, "a.b.c"), 700211},
		{"secret app offered an assertion", form(conf.ClientID, good), 700027},
		{"certificate app offered a federated token", form(info.Native.CertClientID, good), 700027},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := post(t, info.TokenURL, c.form, nil)
			if c.wantCode == 0 {
				if status != http.StatusOK || body["access_token"] == nil {
					t.Fatalf("status %d body %v", status, body)
				}
				return
			}
			if codes, _ := body["error_codes"].([]any); status == http.StatusOK || len(codes) == 0 || int(codes[0].(float64)) != c.wantCode {
				t.Errorf("status %d body %v, want AADSTS%d", status, body, c.wantCode)
			}
		})
	}
}

func TestManagedIdentityEndpoint(t *testing.T) {
	e, info := start(t, emulator.Options{})
	get := func(header, resource string) int {
		req, _ := http.NewRequest(http.MethodGet, info.Native.ManagedIdentityEndpoint+"?api-version=2019-08-01&resource="+url.QueryEscape(resource), nil)
		req.Header.Set("X-IDENTITY-HEADER", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		name, header, resource string
		want                   int
	}{
		{"known org", info.Native.ManagedIdentityHeader, info.Orgs[0].URL, http.StatusOK},
		{"no header", "", info.Orgs[0].URL, http.StatusUnauthorized},
		{"unknown resource", info.Native.ManagedIdentityHeader, "https://elsewhere.crm.dynamics.com", http.StatusBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := get(c.header, c.resource); got != c.want {
				t.Errorf("got %d, want %d", got, c.want)
			}
		})
	}
	if n := e.Stats().Tokens["managed_identity"]; n != 1 {
		t.Errorf("managed identity tokens counted %d, want 1", n)
	}
}
