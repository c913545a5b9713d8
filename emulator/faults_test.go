package emulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"connform/emulator"
)

// TestFaultKinds: each kind answers a refresh request the way Entra
// answers it, once, and the next request succeeds.
func TestFaultKinds(t *testing.T) {
	for _, tc := range []struct {
		kind       emulator.FaultKind
		delay      time.Duration
		status     int
		err        string
		code       int
		retryAfter string
	}{
		{emulator.FaultExpiredRefreshToken, 0, 400, "invalid_grant", 700082, ""},
		{emulator.FaultRevoked, 0, 400, "invalid_grant", 70008, ""},
		{emulator.FaultConsentRequired, 0, 400, "interaction_required", 65001, ""},
		{emulator.FaultBadSecret, 0, 401, "invalid_client", 7000215, ""},
		{emulator.FaultExpiredSecret, 0, 401, "invalid_client", 7000222, ""},
		{emulator.FaultRedirectMismatch, 0, 400, "invalid_request", 50011, ""},
		{emulator.FaultTooManyRequests, 1500 * time.Millisecond, 429, "temporarily_unavailable", 90033, "2"},
		{emulator.FaultServerError, 0, 500, "server_error", 90033, ""},
		{emulator.FaultUnavailable, 0, 503, "temporarily_unavailable", 90033, "0"},
		{emulator.FaultTemporarilyUnavailable, 0, 400, "temporarily_unavailable", 90033, ""},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			e, info := start(t, emulator.Options{AutoApprove: true})
			pub := app(t, info, emulator.PublicApp).ClientID
			rt := signedIn(t, info)["refresh_token"].(string)
			e.AddFault(emulator.Fault{Endpoint: "token", Count: 1, Kind: tc.kind, Delay: tc.delay})

			form := refreshForm(info, pub, rt, info.Orgs[0].URL+"/user_impersonation offline_access")
			req, _ := http.NewRequest(http.MethodPost, info.TokenURL, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			status, raw, _ := post(t, info.TokenURL, form, nil)
			if status != http.StatusOK {
				t.Fatalf("Count 1 should fail one request only, but the second has %d %s", status, raw)
			}
		})
		t.Run(string(tc.kind)+"/body", func(t *testing.T) {
			e, info := start(t, emulator.Options{AutoApprove: true})
			pub := app(t, info, emulator.PublicApp).ClientID
			rt := signedIn(t, info)["refresh_token"].(string)
			e.AddFault(emulator.Fault{Endpoint: "token", Kind: tc.kind})
			status, raw, _ := post(t, info.TokenURL, refreshForm(info, pub, rt, info.Orgs[0].URL+"/user_impersonation"), nil)
			wantEntraError(t, tc.status, raw, status, tc.err, tc.code)
		})
	}
}

// TestFaultMatching: faults are scoped by endpoint, client and (for the
// silent-grant kinds) grant type; Count 0 lasts until ClearFaults.
func TestFaultMatching(t *testing.T) {
	e, info := start(t, emulator.Options{AutoApprove: true})
	conf := app(t, info, emulator.ConfidentialApp)
	pub := app(t, info, emulator.PublicApp).ClientID
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {conf.ClientID}, "client_secret": {conf.ClientSecret}, "scope": {info.Orgs[0].URL + "/.default"}}

	// A refresh-token kind leaves client credentials alone.
	e.AddFault(emulator.Fault{Kind: emulator.FaultRevoked})
	if status, raw, _ := post(t, info.TokenURL, cc, nil); status != 200 {
		t.Errorf("client credentials under a revoked-refresh fault: %d %s", status, raw)
	}
	e.ClearFaults()

	// Another client's fault does not fire.
	e.AddFault(emulator.Fault{ClientID: pub, Kind: emulator.FaultServerError})
	if status, raw, _ := post(t, info.TokenURL, cc, nil); status != 200 {
		t.Errorf("fault for the public app hit the confidential one: %d %s", status, raw)
	}
	e.ClearFaults()

	// Count 0 is forever; ClearFaults ends it.
	e.AddFault(emulator.Fault{Endpoint: "token", ClientID: conf.ClientID, Kind: emulator.FaultExpiredSecret})
	for range 3 {
		status, raw, _ := post(t, info.TokenURL, cc, nil)
		wantEntraError(t, 401, raw, status, "invalid_client", 7000222)
	}
	e.ClearFaults()
	if status, raw, _ := post(t, info.TokenURL, cc, nil); status != 200 {
		t.Errorf("after ClearFaults: %d %s", status, raw)
	}

	// Count 2: two failures, then success.
	e.AddFault(emulator.Fault{Endpoint: "token", Count: 2, Kind: emulator.FaultServerError})
	for i, want := range []int{500, 500, 200} {
		if status, _, _ := post(t, info.TokenURL, cc, nil); status != want {
			t.Errorf("request %d: %d, want %d", i+1, status, want)
		}
	}
}

// TestFaultAuthorizeAndWebAPI: the sign-in page shows a redirect mismatch
// on Entra's error page; the Web API answers 429 with Retry-After; latency
// delays without failing.
func TestFaultAuthorizeAndWebAPI(t *testing.T) {
	e, info := start(t, emulator.Options{AutoApprove: true})
	pub := app(t, info, emulator.PublicApp).ClientID

	e.AddFault(emulator.Fault{Endpoint: "authorize", ClientID: pub, Count: 1, Kind: emulator.FaultRedirectMismatch})
	authURL := publicConfig(info, "http://localhost:8400/", info.Orgs[0].URL+"/user_impersonation").AuthCodeURL("st")
	resp, err := noRedirects.Get(authURL + "&code_challenge=" + strings.Repeat("a", 43) + "&code_challenge_method=S256")
	if err != nil {
		t.Fatal(err)
	}
	var page strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		page.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(page.String(), "AADSTS50011") {
		t.Errorf("authorize under a redirect-mismatch fault: %d %s", resp.StatusCode, page.String())
	}
	if e.Stats().SignIns != 0 {
		t.Errorf("a faulted authorize completed a sign-in")
	}

	at := signedIn(t, info)["access_token"].(string)
	e.AddFault(emulator.Fault{Endpoint: "whoami", Count: 1, Kind: emulator.FaultTooManyRequests, Delay: 3 * time.Second})
	status, h, _ := whoAmI(t, info.Orgs[0].URL, at)
	if status != 429 || h.Get("Retry-After") != "3" {
		t.Errorf("WhoAmI under a 429 fault: %d Retry-After %q", status, h.Get("Retry-After"))
	}
	if status, _, _ := whoAmI(t, info.Orgs[0].URL, at); status != 200 {
		t.Errorf("WhoAmI after the fault: %d", status)
	}

	e.AddFault(emulator.Fault{Endpoint: "webapi", Count: 1, Kind: emulator.FaultLatency, Delay: 50 * time.Millisecond})
	began := time.Now()
	if status, _, _ := whoAmI(t, info.Orgs[0].URL, at); status != 200 {
		t.Errorf("WhoAmI under latency: %d, want 200", status)
	}
	if waited := time.Since(began); waited < 50*time.Millisecond {
		t.Errorf("latency fault answered after %s, before its 50ms delay", waited)
	}
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		in      string
		want    emulator.Fault
		wantErr string
	}{
		{"token:revoked,count=1", emulator.Fault{Endpoint: "token", Kind: emulator.FaultRevoked, Count: 1}, ""},
		{"webapi/whoami:503,delay=2s", emulator.Fault{Endpoint: "webapi/whoami", Kind: emulator.FaultUnavailable, Delay: 2 * time.Second}, ""},
		{"any:429,client=abc", emulator.Fault{Kind: emulator.FaultTooManyRequests, ClientID: "abc"}, ""},
		{"token", emulator.Fault{}, "write ENDPOINT:KIND"},
		{"token:nope", emulator.Fault{}, `unknown kind "nope"`},
		{"token:500,count=x", emulator.Fault{}, "count=x"},
		{"token:500,color=red", emulator.Fault{}, "unknown option"},
		// Every endpoint the emulator answers, in any case; a Web API
		// route with or without webapi/.
		{"authorize:redirect_mismatch", emulator.Fault{Endpoint: "authorize", Kind: emulator.FaultRedirectMismatch}, ""},
		{"devicecode:500", emulator.Fault{Endpoint: "devicecode", Kind: emulator.FaultServerError}, ""},
		{"webapi:latency,delay=1s", emulator.Fault{Endpoint: "webapi", Kind: emulator.FaultLatency, Delay: time.Second}, ""},
		{"whoami:429", emulator.Fault{Endpoint: "whoami", Kind: emulator.FaultTooManyRequests}, ""},
		{"webapi/EntityDefinitions:500", emulator.Fault{Endpoint: "webapi/EntityDefinitions", Kind: emulator.FaultServerError}, ""},
		{"webapi/accounts:503", emulator.Fault{Endpoint: "webapi/accounts", Kind: emulator.FaultUnavailable}, ""},
		{"ANY:500", emulator.Fault{Kind: emulator.FaultServerError}, ""},
		// Endpoints nothing asks for would never fire.
		{"nope:429", emulator.Fault{}, `unknown endpoint "nope"; known: any, token, authorize, devicecode, webapi, webapi/accounts,`},
		{"webapi/nope:429", emulator.Fault{}, `unknown endpoint "webapi/nope"`},
		{"tokens:500", emulator.Fault{}, `unknown endpoint "tokens"`},
		{"webapi/:500", emulator.Fault{}, `unknown endpoint "webapi/"`},
		{"webapi/token:500", emulator.Fault{}, `unknown endpoint "webapi/token"`},
	}
	for _, tt := range tests {
		got, err := emulator.ParseFault(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// TestFaultEndpointsFire: every Web API endpoint ParseFault accepts is one
// a request reaches, so a fault on it fires.
func TestFaultEndpointsFire(t *testing.T) {
	e, info := start(t, emulator.Options{})
	for _, ep := range emulator.FaultEndpoints() {
		route, ok := strings.CutPrefix(ep, "webapi/")
		if !ok {
			continue
		}
		f, err := emulator.ParseFault(ep + ":500,count=1")
		if err != nil {
			t.Fatalf("ParseFault refuses its own endpoint %s: %v", ep, err)
		}
		e.AddFault(f)
		resp, err := http.Get(info.Orgs[0].URL + "/api/data/v9.2/" + route)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("GET %s under a %s fault: %d, want 500", route, ep, resp.StatusCode)
		}
	}
}
