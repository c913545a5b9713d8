package dynamics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// A realistic-looking token; the fake org echoes it in some answers to prove
// the client never lets it into an error.
const testToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2NvbnRvc28uY3JtLmR5bmFtaWNzLmNvbSJ9.c2lnbmF0dXJlLXNlZ21lbnQtbG9uZy1lbm91Z2g-_x"

type fakeAnswer struct {
	status int
	header map[string]string
	body   string
}

// fakeOrg serves one answer to WhoAmI after checking the request the way
// Dynamics needs it; a request it would reject fails the test.
func fakeOrg(t *testing.T, a fakeAnswer) Org {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := map[string]string{
			"Accept":           "application/json",
			"OData-MaxVersion": "4.0",
			"OData-Version":    "4.0",
			"Authorization":    "Bearer " + testToken,
			"User-Agent":       "connform-test/1",
		}
		for k, v := range want {
			if got := r.Header.Get(k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
		if r.Method != http.MethodGet || r.URL.Path != "/api/data/v9.2/WhoAmI" {
			t.Errorf("request %s %s, want GET /api/data/v9.2/WhoAmI", r.Method, r.URL.Path)
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	org, err := ParseOrgURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return org
}

// testClient never waits between retries.
func testClient() *Client {
	return &Client{UserAgent: "connform-test/1", Sleep: func(context.Context, time.Duration) error { return nil }}
}

// Transient answers are retried with the wait the org asks for, or a
// doubling backoff; others are not; the number of tries is bounded.
func TestRetriesTransientAnswers(t *testing.T) {
	ok := fakeAnswer{status: 200, body: `{"UserId":"u","BusinessUnitId":"b","OrganizationId":"o"}`}
	busy := fakeAnswer{status: 429, header: map[string]string{"Retry-After": "2"}, body: `{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit."}}`}
	down := fakeAnswer{status: 503}
	denied := fakeAnswer{status: 401}
	tests := []struct {
		name      string
		answers   []fakeAnswer // the last repeats
		wantErr   string
		wantWaits []time.Duration
	}{
		{"429 then 503 then ok", []fakeAnswer{busy, down, ok}, "", []time.Duration{2 * time.Second, time.Second}},
		{"503 until it gives up", []fakeAnswer{down}, "HTTP 503", []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}},
		{"401 is not retried", []fakeAnswer{denied}, "HTTP 401", nil},
		{"Retry-After is capped", []fakeAnswer{{status: 429, header: map[string]string{"Retry-After": "3600"}}, ok}, "", []time.Duration{30 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				a := tt.answers[min(calls, len(tt.answers)-1)]
				calls++
				for k, v := range a.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(a.status)
				_, _ = w.Write([]byte(a.body))
			}))
			defer srv.Close()
			org, err := ParseOrgURL(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			var waits []time.Duration
			c := &Client{Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			_, err = c.WhoAmI(context.Background(), org, testToken)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !slices.Equal(waits, tt.wantWaits) {
				t.Errorf("waits %v, want %v", waits, tt.wantWaits)
			}
			if calls != len(tt.wantWaits)+1 {
				t.Errorf("%d requests for %d waits", calls, len(waits))
			}
		})
	}
}

func TestWhoAmISuccess(t *testing.T) {
	org := fakeOrg(t, fakeAnswer{status: 200, header: map[string]string{"Content-Type": "application/json; odata.metadata=minimal"}, body: `{
		"@odata.context": "https://x/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
		"BusinessUnitId": "bu-1", "UserId": "user-1", "OrganizationId": "org-1"}`})
	got, err := testClient().WhoAmI(context.Background(), org, testToken)
	if err != nil {
		t.Fatal(err)
	}
	want := WhoAmI{UserID: "user-1", BusinessUnitID: "bu-1", OrganizationID: "org-1"}
	if *got != want {
		t.Errorf("WhoAmI = %+v, want %+v", *got, want)
	}
}

func TestWhoAmIErrors(t *testing.T) {
	odata := func(code, msg string) string {
		return `{"error":{"code":"` + code + `","message":"` + msg + `"}}`
	}
	cases := []struct {
		name   string
		answer fakeAnswer
		// api is nil when the error is not an *APIError.
		api       *APIError
		wantInErr []string
		userHint  string // substring of Hint(false)
		appHint   string // substring of Hint(true)
	}{
		{
			name: "401 token for another tenant",
			answer: fakeAnswer{status: 401, header: map[string]string{
				"WWW-Authenticate": `Bearer error="invalid_token", error_description="The token was issued for a different tenant, not this one", authorization_uri="https://login.microsoftonline.com/tid-1/oauth2/authorize", resource_id="https://contoso.crm.dynamics.com/"`,
			}, body: odata("0x80072243", "The access token is not valid.")},
			api: &APIError{StatusCode: 401, Code: "0x80072243", Message: "The access token is not valid.",
				AuthError:        "invalid_token: The token was issued for a different tenant, not this one",
				AuthorizationURI: "https://login.microsoftonline.com/tid-1/oauth2/authorize"},
			wantInErr: []string{"HTTP 401", "0x80072243", "another org or tenant, or it has expired", "tid-1"},
			userHint:  "sign in again",
			appHint:   "sign in again",
		},
		{
			name: "401 with Dynamics' bare challenge values",
			answer: fakeAnswer{status: 401, header: map[string]string{
				"WWW-Authenticate": `Bearer authorization_uri=https://login.microsoftonline.com/tid-2/oauth2/authorize, resource_id=https://contoso.crm.dynamics.com/`,
			}},
			api:       &APIError{StatusCode: 401, AuthorizationURI: "https://login.microsoftonline.com/tid-2/oauth2/authorize"},
			wantInErr: []string{"HTTP 401 Unauthorized", "takes tokens from https://login.microsoftonline.com/tid-2/"},
		},
		{
			name:      "403 caller not in the org",
			answer:    fakeAnswer{status: 403, body: odata("0x80072560", "The user is not a member of the organization.")},
			api:       &APIError{StatusCode: 403, Code: "0x80072560", Message: "The user is not a member of the organization."},
			wantInErr: []string{"HTTP 403", "not a member", "For a user", "Application users"},
			userHint:  "security role",
			appHint:   "Application users, add an app user for this client_id",
		},
		{
			name:      "500 with an HTML page",
			answer:    fakeAnswer{status: 500, header: map[string]string{"Content-Type": "text/html"}, body: "<html>\n<body>  Service   Unavailable </body></html>"},
			api:       &APIError{StatusCode: 500, Message: "<html> <body> Service Unavailable </body></html>"},
			wantInErr: []string{"HTTP 500 Internal Server Error", "Service Unavailable", "try again later"},
		},
		{
			name:      "429 with Retry-After",
			answer:    fakeAnswer{status: 429, header: map[string]string{"Retry-After": "7"}, body: odata("0x80072322", "Number of requests exceeded the limit.")},
			api:       &APIError{StatusCode: 429, Code: "0x80072322", Message: "Number of requests exceeded the limit.", RetryAfter: 7 * time.Second},
			wantInErr: []string{"HTTP 429", "wait 7s"},
		},
		{
			name:      "404 not an org",
			answer:    fakeAnswer{status: 404, body: "Not Found"},
			api:       &APIError{StatusCode: 404, Message: "Not Found"},
			wantInErr: []string{"HTTP 404", "check that url names the Dynamics 365 org"},
		},
		{
			name:      "200 with malformed JSON",
			answer:    fakeAnswer{status: 200, body: `{"UserId": "u", `},
			wantInErr: []string{"HTTP 200", "not Web API JSON", "invalid JSON", "check that url"},
		},
		{
			name:      "200 with a sign-in page from a proxy",
			answer:    fakeAnswer{status: 200, header: map[string]string{"Content-Type": "text/html"}, body: "<html>Sign in</html>"},
			wantInErr: []string{"not Web API JSON", `starting "<html>Sign in</html>"`},
		},
		{
			name:      "200 JSON without the ids",
			answer:    fakeAnswer{status: 200, body: `{"value": []}`},
			wantInErr: []string{"no UserId or OrganizationId"},
		},
		{
			name:      "server echoes the token",
			answer:    fakeAnswer{status: 400, header: map[string]string{"WWW-Authenticate": `Bearer error="invalid_request", error_description="bad token ` + testToken + `"`}, body: odata("0x0", "Header was Bearer "+testToken)},
			api:       &APIError{StatusCode: 400, Code: "0x0", Message: "Header was Bearer (redacted)", AuthError: "invalid_request: bad token (redacted)"},
			wantInErr: []string{"(redacted)"},
		},
		{
			name:      "server echoes the token split in two",
			answer:    fakeAnswer{status: 400, body: odata("0x0", "bad header "+testToken[:len(testToken)/2]+" ... "+testToken[len(testToken)/2:])},
			api:       &APIError{StatusCode: 400, Code: "0x0", Message: "bad header (redacted) ... (redacted)"},
			wantInErr: []string{"(redacted) ... (redacted)"},
		},
		{
			name:      "server echoes one JWT segment",
			answer:    fakeAnswer{status: 401, body: odata("0x0", "payload "+strings.Split(testToken, ".")[1]+" rejected")},
			api:       &APIError{StatusCode: 401, Code: "0x0", Message: "payload (redacted) rejected"},
			wantInErr: []string{"payload (redacted) rejected"},
		},
		{
			name:      "server echoes JWT segments run into other text",
			answer:    fakeAnswer{status: 401, body: odata("0x0", "bad token="+strings.Split(testToken, ".")[1]+"; see /tokens/"+strings.Split(testToken, ".")[0]+". The signature was "+strings.Split(testToken, ".")[2]+".")},
			api:       &APIError{StatusCode: 401, Code: "0x0", Message: "bad token=(redacted); see /tokens/(redacted). The signature was (redacted)."},
			wantInErr: []string{"bad token=(redacted); see /tokens/(redacted). The signature was (redacted)."},
		},
		{
			name:      "server echoes the token in a long plain body",
			answer:    fakeAnswer{status: 502, body: strings.Repeat("x", 150) + " " + testToken},
			api:       &APIError{StatusCode: 502, Message: strings.Repeat("x", 150) + " (redacted)"},
			wantInErr: []string{"HTTP 502", "(redacted)"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			org := fakeOrg(t, c.answer)
			got, err := testClient().WhoAmI(context.Background(), org, testToken)
			if err == nil {
				t.Fatalf("WhoAmI succeeded: %+v", got)
			}
			msg := err.Error()
			if strings.Contains(msg, testToken) || strings.Contains(msg, testToken[:20]) {
				t.Errorf("error holds the token: %s", msg)
			}
			for _, s := range c.wantInErr {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not say %q", msg, s)
				}
			}
			var api *APIError
			if !errors.As(err, &api) {
				if c.api != nil {
					t.Fatalf("error %T is not an *APIError", err)
				}
				return
			}
			if c.api == nil {
				t.Fatalf("got an *APIError for a 2xx answer: %v", api)
			}
			want := *c.api
			want.Method, want.URL = http.MethodGet, org.WebAPIURL()+"WhoAmI"
			if *api != want {
				t.Errorf("APIError = %#v\nwant       %#v", *api, want)
			}
			if c.userHint != "" && !strings.Contains(api.Hint(false), c.userHint) {
				t.Errorf("Hint(false) = %q, want it to say %q", api.Hint(false), c.userHint)
			}
			if c.appHint != "" && !strings.Contains(api.Hint(true), c.appHint) {
				t.Errorf("Hint(true) = %q, want it to say %q", api.Hint(true), c.appHint)
			}
		})
	}
}

func TestAPIErrorHintsDifferByCaller(t *testing.T) {
	e := &APIError{StatusCode: 403}
	if strings.Contains(e.Hint(false), "Application users") {
		t.Errorf("a user's 403 hint talks about application users: %s", e.Hint(false))
	}
	if !strings.Contains(e.Hint(true), "Application users") {
		t.Errorf("an app-only 403 hint does not name Application users: %s", e.Hint(true))
	}
	if h := (&APIError{StatusCode: 400}).Hint(true); h != "" {
		t.Errorf("a 400 has advice %q; there is none to give", h)
	}
}

func TestWhoAmIRefusesBadTokensWithoutCalling(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the org was called with %q", r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	org, err := ParseOrgURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{"empty": "", "newline": "abc\r\nX-Injected: 1", "space": "abc def"} {
		t.Run(name, func(t *testing.T) {
			_, err := (&Client{HTTP: srv.Client()}).WhoAmI(context.Background(), org, token)
			if err == nil {
				t.Fatal("WhoAmI accepted the token")
			}
			if token != "" && strings.Contains(err.Error(), token) {
				t.Errorf("error holds the token: %v", err)
			}
		})
	}
}

func TestWhoAmIUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	org, err := ParseOrgURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	_, err = (&Client{}).WhoAmI(context.Background(), org, testToken)
	if err == nil || !strings.Contains(err.Error(), "reachable") || strings.Contains(err.Error(), testToken) {
		t.Errorf("error for a closed server = %v", err)
	}
}

func TestParseChallenge(t *testing.T) {
	got := parseChallenge(`Bearer realm="", error="invalid_token", error_description="a, \"quoted\" text",authorization_uri=https://l/t/oauth2/authorize`)
	want := map[string]string{"realm": "", "error": "invalid_token", "error_description": `a, "quoted" text`, "authorization_uri": "https://l/t/oauth2/authorize"}
	if len(got) != len(want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if parseChallenge(`Basic realm="x"`) != nil {
		t.Error("a Basic challenge was read as Bearer")
	}
}
