package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connform/internal/retry"
)

func TestMain(m *testing.M) {
	scryptN = 1 << 10 // keep the file store's key derivation fast under -race
	os.Exit(m.Run())
}

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func testFlow(opener Opener) *Flow {
	return &Flow{
		Opener:  opener,
		Timeout: 10 * time.Second, // ends a broken test; passing ones finish at once
		Now:     func() time.Time { return testNow },
		Sleep:   func(context.Context, time.Duration) error { return nil },
	}
}

func TestAuthorizationCodePKCE(t *testing.T) {
	tests := []struct {
		name         string
		redirect     string
		formPost     bool
		stringExpiry bool
		wantPath     string
	}{
		{"registration without path gets a slash", "http://localhost", false, false, "/"},
		{"registration with path", "http://localhost/callback", false, false, "/callback"},
		{"response_mode form_post", "http://localhost/", true, false, "/"},
		{"expires_in as a string", "", false, true, "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entra := newFakeEntra(t)
			entra.stringExp = tt.stringExpiry
			browser := entra.browser(tt.formPost, nil)
			flow := testFlow(browser)
			var notified []string
			flow.Notify = func(u string) { notified = append(notified, u) }
			p := entra.params()
			p.Redirect = tt.redirect
			p.Prompt = "select_account"
			p.LoginHint = fakeUser

			res, err := flow.AuthorizationCode(context.Background(), p)
			if err != nil {
				t.Fatalf("AuthorizationCode: %v", err)
			}
			if res.AccessToken == "" || res.RefreshToken == "" {
				t.Errorf("want access and refresh tokens, got %+v", res)
			}
			if res.Account != fakeUser {
				t.Errorf("Account = %q, want %q", res.Account, fakeUser)
			}
			if want := testNow.Add(3599 * time.Second); !res.Expiry.Equal(want) {
				t.Errorf("Expiry = %v, want %v", res.Expiry, want)
			}
			if want := []string{"https://org.crm.dynamics.com/user_impersonation"}; !slices.Equal(res.Scopes, want) {
				t.Errorf("Scopes = %q, want the granted %q", res.Scopes, want)
			}

			opened := browser.Opened()
			if len(opened) != 1 || len(notified) != 1 || notified[0] != opened[0] {
				t.Fatalf("want one URL notified then opened, got notified %q opened %q", notified, opened)
			}
			q := mustQuery(t, opened[0])
			redirect, err := url.Parse(q.Get("redirect_uri"))
			if err != nil {
				t.Fatal(err)
			}
			if redirect.Scheme != "http" || redirect.Hostname() != "localhost" || redirect.Port() == "" || redirect.Path != tt.wantPath {
				t.Errorf("redirect_uri = %q, want http://localhost:PORT%s", redirect, tt.wantPath)
			}
			for k, want := range map[string]string{
				"response_type": "code", "client_id": fakeClientID, "code_challenge_method": "S256",
				"prompt": "select_account", "login_hint": fakeUser,
				"scope": "https://org.crm.dynamics.com/user_impersonation offline_access",
			} {
				if got := q.Get(k); got != want {
					t.Errorf("authorize %s = %q, want %q", k, got, want)
				}
			}
			if q.Get("code_verifier") != "" {
				t.Error("the authorize URL carries the PKCE verifier")
			}
			reqs := entra.tokenRequests()
			if len(reqs) != 1 || reqs[0].Get("grant_type") != "authorization_code" || reqs[0].Get("redirect_uri") != redirect.String() {
				t.Errorf("want one code redemption with redirect_uri %q, got %v", redirect, reqs)
			}
		})
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestAuthorizationCodeCallbackFailures(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(url.Values)
		check   func(t *testing.T, err error)
		formPst bool
	}{
		{
			name: "user declined consent",
			mutate: func(v url.Values) {
				v.Del("code")
				v.Set("error", "access_denied")
				v.Set("error_description", "AADSTS65004: User declined to consent to access the app.\r\nTrace ID: x")
			},
			check: func(t *testing.T, err error) {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("want *Error, got %T %v", err, err)
				}
				if e.Code != "access_denied" || !e.Has(65004) || e.Description != "AADSTS65004: User declined to consent to access the app." {
					t.Errorf("got %+v", e)
				}
			},
		},
		{
			name: "error by form post",
			mutate: func(v url.Values) {
				v.Del("code")
				v.Set("error", "interaction_required")
				v.Set("error_description", "AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.")
			},
			formPst: true,
			check: func(t *testing.T, err error) {
				var e *Error
				if !errors.As(err, &e) || !e.InteractionRequired() {
					t.Errorf("want an *Error needing interaction, got %v", err)
				}
			},
		},
		{
			name:   "no code",
			mutate: func(v url.Values) { v.Del("code") },
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "no authorization code") {
					t.Errorf("error %q does not say the code is missing", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entra := newFakeEntra(t)
			flow := testFlow(entra.browser(tt.formPst, tt.mutate))
			_, err := flow.AuthorizationCode(context.Background(), entra.params())
			if err == nil {
				t.Fatal("sign-in succeeded")
			}
			tt.check(t, err)
			if n := len(entra.tokenRequests()); n != 0 {
				t.Errorf("the token endpoint was called %d times after a failed callback", n)
			}
		})
	}
}

// A response whose state is not this sign-in's (another attempt's, or a
// local process forging one) is refused and must not end the wait: the
// real response still completes the sign-in.
func TestAuthorizationCodeRefusesForgedResponses(t *testing.T) {
	entra := newFakeEntra(t)
	approve := entra.browser(false, nil)
	flow := testFlow(&RecordingOpener{OnOpen: func(authURL string) error {
		redirect := mustQuery(t, authURL).Get("redirect_uri")
		for _, q := range []string{"state=forged&code=attacker", "code=attacker", "state=forged&error=access_denied"} {
			resp, err := httpGet(redirect + "?" + q)
			if err != nil {
				return err
			}
			if resp != http.StatusBadRequest {
				t.Errorf("forged response %q answered %d, want 400", q, resp)
			}
		}
		return approve.Open(authURL)
	}})
	if _, err := flow.AuthorizationCode(context.Background(), entra.params()); err != nil {
		t.Fatalf("AuthorizationCode after forged responses: %v", err)
	}
	for _, req := range entra.tokenRequests() {
		if req.Get("code") == "attacker" {
			t.Fatal("a forged code reached the token endpoint")
		}
	}
}

func TestAuthorizationCodeIgnoresStrayRequests(t *testing.T) {
	entra := newFakeEntra(t)
	approve := entra.browser(false, nil)
	flow := testFlow(&RecordingOpener{OnOpen: func(authURL string) error {
		redirect := mustQuery(t, authURL).Get("redirect_uri")
		base, _ := url.Parse(redirect)
		// A favicon fetch and a bare reload must not end the sign-in.
		for _, u := range []string{"http://" + base.Host + "/favicon.ico", redirect} {
			resp, err := httpGet(u)
			if err != nil {
				return err
			}
			if resp == 200 {
				t.Errorf("GET %s answered 200", u)
			}
		}
		return approve.Open(authURL)
	}})
	if _, err := flow.AuthorizationCode(context.Background(), entra.params()); err != nil {
		t.Fatalf("AuthorizationCode: %v", err)
	}
}

func TestAuthorizationCodeWaitEnds(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		entra := newFakeEntra(t)
		flow := testFlow(nil) // no browser: the user was to open the URL
		flow.Timeout = 20 * time.Millisecond
		var notified string
		flow.Notify = func(u string) { notified = u }
		var announced []time.Duration
		flow.Waiting = func(waited, left time.Duration) {
			if waited == 0 {
				announced = append(announced, left)
			}
		}
		_, err := flow.AuthorizationCode(context.Background(), entra.params())
		if err == nil || !strings.Contains(err.Error(), "no sign-in completed within 20ms (-auth-timeout)") {
			t.Errorf("want a timeout error, got %v", err)
		}
		if len(announced) != 1 || announced[0] != 20*time.Millisecond {
			t.Errorf("the wait was announced as %v, want once, as 20ms", announced)
		}
		if !strings.Contains(notified, "code_challenge=") {
			t.Errorf("the URL was not given to Notify without a browser: %q", notified)
		}
	})
	t.Run("browser fails to open", func(t *testing.T) {
		entra := newFakeEntra(t)
		flow := testFlow(&RecordingOpener{OnOpen: func(string) error { return errors.New("no display") }})
		flow.Timeout = 20 * time.Millisecond
		notified := false
		flow.Notify = func(string) { notified = true }
		_, err := flow.AuthorizationCode(context.Background(), entra.params())
		if err == nil || !strings.Contains(err.Error(), "no sign-in completed") || !notified {
			t.Errorf("want the URL notified and a wait ending in timeout, got notified=%v err=%v", notified, err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		entra := newFakeEntra(t)
		ctx, cancel := context.WithCancel(context.Background())
		flow := testFlow(nil)
		flow.Notify = func(string) { cancel() }
		_, err := flow.AuthorizationCode(ctx, entra.params())
		if !errors.Is(err, context.Canceled) {
			t.Errorf("want context.Canceled, got %v", err)
		}
	})
}

func TestAuthorizationCodeListensOnLoopbackOnly(t *testing.T) {
	entra := newFakeEntra(t)
	flow := testFlow(entra.browser(false, nil))
	var addr net.Addr
	var twinErr error
	flow.listening = func(a net.Addr) {
		addr = a
		// While the sign-in waits, no other process may take the port on
		// the IPv6 loopback, where a browser may send the response. A
		// machine without ::1 refuses for want of the address instead.
		var ln net.Listener
		if ln, twinErr = net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(a.(*net.TCPAddr).Port))); twinErr == nil {
			ln.Close()
		}
	}
	if _, err := flow.AuthorizationCode(context.Background(), entra.params()); err != nil {
		t.Fatal(err)
	}
	if twinErr == nil {
		t.Error("another listener could take the callback port on [::1] during the sign-in")
	}
	if tcp, ok := addr.(*net.TCPAddr); !ok || !tcp.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("listener bound to %v, want 127.0.0.1", addr)
	}

	for _, host := range []string{"0.0.0.0", "::", "192.0.2.10", "localhost"} {
		flow := testFlow(entra.browser(false, nil))
		flow.ListenHost = host
		_, err := flow.AuthorizationCode(context.Background(), entra.params())
		if err == nil || !strings.Contains(err.Error(), "not a loopback IP address") {
			t.Errorf("ListenHost %q: want a refusal, got %v", host, err)
		}
	}
	for _, redirect := range []string{"https://localhost", "http://example.com/cb", "http://[::1]/"} {
		p := entra.params()
		p.Redirect = redirect
		_, err := testFlow(nil).AuthorizationCode(context.Background(), p)
		if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
			t.Errorf("Redirect %q: want a refusal, got %v", redirect, err)
		}
	}
}

func TestClientCredentials(t *testing.T) {
	entra := newFakeEntra(t)
	flow := testFlow(nil)
	p := entra.params("https://org.crm.dynamics.com/.default")
	p.ClientSecret = fakeClientSecret
	res, err := flow.ClientCredentials(context.Background(), p)
	if err != nil {
		t.Fatalf("ClientCredentials: %v", err)
	}
	if res.AccessToken == "" || res.RefreshToken != "" || res.Account != "" {
		t.Errorf("want an app token without refresh token or user, got %+v", res)
	}
	if !res.Expiry.Equal(testNow.Add(3599 * time.Second)) {
		t.Errorf("Expiry = %v", res.Expiry)
	}

	t.Run("wrong secret", func(t *testing.T) {
		p := p
		p.ClientSecret = "the-secret-id-not-its-value"
		_, err := flow.ClientCredentials(context.Background(), p)
		var e *Error
		if !errors.As(err, &e) || !e.Has(7000215) || !e.ConfigError() || !strings.Contains(e.Hint(), "client_secret") {
			t.Errorf("want a configuration error naming client_secret, got %v", err)
		}
		if e != nil && (e.StatusCode != 401 || e.CorrelationID == "" || e.TraceID == "") {
			t.Errorf("status and ids not kept: %+v", e)
		}
	})
	t.Run("delegated scope", func(t *testing.T) {
		p := p
		p.Scopes = []string{"https://org.crm.dynamics.com/user_impersonation"}
		_, err := flow.ClientCredentials(context.Background(), p)
		var e *Error
		if !errors.As(err, &e) || !e.Has(1002012) || !strings.Contains(e.Hint(), ".default") {
			t.Errorf("want AADSTS1002012 with a hint, got %v", err)
		}
	})
	t.Run("missing secret", func(t *testing.T) {
		p := p
		p.ClientSecret = ""
		_, err := flow.ClientCredentials(context.Background(), p)
		if err == nil || !strings.Contains(err.Error(), "missing client_secret") {
			t.Errorf("want a missing client_secret error, got %v", err)
		}
	})
}

func TestRefreshRotation(t *testing.T) {
	entra := newFakeEntra(t)
	entra.stringExp = true
	flow := testFlow(entra.browser(false, nil))
	first, err := flow.AuthorizationCode(context.Background(), entra.params())
	if err != nil {
		t.Fatal(err)
	}
	// The same refresh token serves another org of the tenant.
	other := entra.params("https://other.crm4.dynamics.com/user_impersonation", "offline_access")
	second, err := flow.Refresh(context.Background(), other, first.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Errorf("the rotated refresh token was not returned")
	}
	if !slices.Equal(second.Scopes, []string{"https://other.crm4.dynamics.com/user_impersonation"}) || second.Account != fakeUser {
		t.Errorf("got %+v", second)
	}
	reqs := entra.tokenRequests()
	last := reqs[len(reqs)-1]
	if last.Get("grant_type") != "refresh_token" || last.Get("scope") != "https://other.crm4.dynamics.com/user_impersonation offline_access" || last.Get("code") != "" {
		t.Errorf("refresh request = %v", last)
	}

	// The superseded token is dead: the caller must sign in again.
	_, err = flow.Refresh(context.Background(), other, first.RefreshToken)
	var e *Error
	if !errors.As(err, &e) || !e.SignInAgain() || !e.Has(70008) {
		t.Errorf("want a sign-in-again error for a used refresh token, got %v", err)
	}
	if _, err := flow.Refresh(context.Background(), other, ""); err == nil {
		t.Error("refresh without a token succeeded")
	}
}

func TestTokenEndpointRetries(t *testing.T) {
	busy := scriptedReply{status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"error":"temporarily_unavailable"}`}
	down := scriptedReply{status: 503, header: map[string]string{"Content-Type": "text/html"}, body: "<html>Service Unavailable</html>"}
	long := scriptedReply{status: 429, header: map[string]string{"Retry-After": "86400"}, body: ""}
	tests := []struct {
		name       string
		replies    []scriptedReply
		wantErr    bool
		wantSleeps []time.Duration
	}{
		{"429 honours Retry-After", []scriptedReply{busy}, false, []time.Duration{7 * time.Second}},
		{"Retry-After is capped", []scriptedReply{long}, false, []time.Duration{30 * time.Second}},
		{"5xx backs off then succeeds", []scriptedReply{down, down}, false, []time.Duration{500 * time.Millisecond, time.Second}},
		{"5xx exhausted", []scriptedReply{down, down, down, down}, true, []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}},
		{"temporarily_unavailable with 400", []scriptedReply{{status: 400, body: `{"error":"temporarily_unavailable","error_codes":[50196]}`}}, false, []time.Duration{500 * time.Millisecond}},
		{"invalid_grant is not retried", []scriptedReply{{status: 400, body: entraErrorBody("invalid_grant", 70008, "expired")}}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entra := newFakeEntra(t)
			entra.script(tt.replies...)
			flow := testFlow(nil)
			var sleeps []time.Duration
			flow.Sleep = func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }
			p := entra.params("https://org.crm.dynamics.com/.default")
			p.ClientSecret = fakeClientSecret
			res, err := flow.ClientCredentials(context.Background(), p)
			if tt.wantErr != (err != nil) {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && res.AccessToken == "" {
				t.Error("no access token after the retries")
			}
			if !slices.Equal(sleeps, tt.wantSleeps) {
				t.Errorf("waits = %v, want %v", sleeps, tt.wantSleeps)
			}
			if tt.name == "5xx exhausted" {
				var e *Error
				if !errors.As(err, &e) || !e.Transient() || e.StatusCode != 503 {
					t.Errorf("want a transient *Error with status 503, got %v", err)
				}
				if strings.Contains(err.Error(), "<html>") {
					t.Errorf("a non-Entra body is shown: %q", err)
				}
			}
		})
	}

	t.Run("cancelled while waiting", func(t *testing.T) {
		entra := newFakeEntra(t)
		entra.script(busy)
		ctx, cancel := context.WithCancel(context.Background())
		flow := testFlow(nil)
		// Cancel as the wait begins: the real 7s timer must not hold it.
		flow.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return retry.Sleep(ctx, d) }
		p := entra.params("https://org.crm.dynamics.com/.default")
		p.ClientSecret = fakeClientSecret
		_, err := flow.ClientCredentials(ctx, p)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("want context.Canceled, got %v", err)
		}
		if n := len(entra.tokenRequests()); n != 1 {
			t.Errorf("%d token requests after cancelling, want 1", n)
		}
	})
}

// TestNoSecretInErrors drives every failure the flows can meet and checks
// that no secret the fake issued or received shows in the error.
func TestNoSecretInErrors(t *testing.T) {
	entra := newFakeEntra(t)
	flow := testFlow(entra.browser(false, nil))
	ok, err := flow.AuthorizationCode(context.Background(), entra.params())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := flow.Refresh(context.Background(), entra.params(), ok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	var errs []error
	collect := func(_ *Result, err error) {
		if err == nil {
			t.Error("a failure case succeeded")
			return
		}
		errs = append(errs, err)
	}
	withSecret := entra.params("https://org.crm.dynamics.com/.default")
	withSecret.ClientSecret = fakeClientSecret

	collect(flow.Refresh(context.Background(), entra.params(), ok.RefreshToken)) // already rotated
	bad := withSecret
	bad.ClientSecret = fakeClientSecret + "-wrong"
	collect(flow.ClientCredentials(context.Background(), bad))
	// A proxy answering with the request echoed back.
	entra.script(scriptedReply{status: 502, header: map[string]string{"Content-Type": "text/plain"}, body: "client_secret=" + fakeClientSecret + "&refresh_token=" + ok.RefreshToken})
	entra.script(scriptedReply{status: 502, header: map[string]string{"Content-Type": "text/plain"}, body: "client_secret=" + fakeClientSecret})
	entra.script(scriptedReply{status: 502, body: `{"weird":"` + fakeClientSecret + `"}`})
	entra.script(scriptedReply{status: 502, body: `{"weird":"` + fakeClientSecret + `"}`})
	collect(flow.ClientCredentials(context.Background(), withSecret))
	// A redeemed code, replayed.
	entra.script(scriptedReply{status: 400, body: entraErrorBody("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed.")})
	collect(flow.AuthorizationCode(context.Background(), entra.params()))
	// An error redirect from the authorization server.
	codeFlow := testFlow(entra.browser(false, func(v url.Values) {
		v.Set("error", "invalid_request")
		v.Set("error_description", "AADSTS90014: bad request")
	}))
	collect(codeFlow.AuthorizationCode(context.Background(), entra.params()))
	// A forged response is refused and the wait goes on, to its timeout.
	stateFlow := testFlow(entra.browser(false, func(v url.Values) { v.Set("state", "x") }))
	stateFlow.Timeout = 50 * time.Millisecond
	collect(stateFlow.AuthorizationCode(context.Background(), entra.params()))
	timeoutFlow := testFlow(nil)
	timeoutFlow.Timeout = time.Millisecond
	collect(timeoutFlow.AuthorizationCode(context.Background(), entra.params()))

	secrets := entra.secrets()
	if len(secrets) < 6 {
		t.Fatalf("the fake recorded only %d secrets", len(secrets))
	}
	for _, err := range errs {
		for _, s := range secrets {
			if s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains the secret %q", err, s)
			}
		}
	}
}

func httpGet(u string) (int, error) {
	resp, err := httpClient.Get(u)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestFlowUsesItsHTTPClient(t *testing.T) {
	entra := newFakeEntra(t)
	tr := &countingTransport{}
	flow := testFlow(nil)
	flow.HTTPClient = &http.Client{Transport: tr}
	p := entra.params("https://org.crm.dynamics.com/.default")
	p.ClientSecret = fakeClientSecret
	if _, err := flow.ClientCredentials(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if tr.n != 1 {
		t.Errorf("the flow's HTTP client carried %d requests, want 1", tr.n)
	}
}

func TestAccountFromClaims(t *testing.T) {
	tests := []struct {
		token string
		want  string
	}{
		{jwtFor(map[string]any{"preferred_username": "a@x", "upn": "b@x"}), "a@x"},
		{jwtFor(map[string]any{"upn": "b@x", "unique_name": "c@x"}), "b@x"},
		{jwtFor(map[string]any{"unique_name": "c@x"}), "c@x"},
		{jwtFor(map[string]any{"appid": "app"}), ""},
		{"opaque-token", ""},
		{"a.!!!.c", ""},
	}
	for _, tt := range tests {
		if got := accountOf(tt.token); got != tt.want {
			t.Errorf("accountOf(%q) = %q, want %q", tt.token, got, tt.want)
		}
	}
}
