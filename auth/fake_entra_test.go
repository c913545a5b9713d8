package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Secrets the fake issues or expects; tests assert none of them leaks.
const (
	fakeClientSecret = "client-SECRET-value-123"
	fakeClientID     = "11111111-2222-3333-4444-555555555555"
	fakeUser         = "ada@contoso.example"
)

// fakeEntra is a token endpoint speaking Entra's JSON, and the authorization
// server's half of the browser sign-in (approve).
type fakeEntra struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	seq       int
	codes     map[string]authorizeRequest // issued codes, by code
	refresh   map[string]bool             // live refresh tokens
	scripted  []scriptedReply             // served first, in order
	requests  []url.Values                // every token request
	issued    []string                    // every secret handed out or received
	stringExp bool                        // send expires_in as a string
}

type authorizeRequest struct {
	challenge, method, redirect, scope string
}

type scriptedReply struct {
	status int
	header map[string]string
	body   string
}

func newFakeEntra(t *testing.T) *fakeEntra {
	f := &fakeEntra{t: t, codes: map[string]authorizeRequest{}, refresh: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.token))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeEntra) params(scopes ...string) Params {
	if len(scopes) == 0 {
		scopes = []string{"https://org.crm.dynamics.com/user_impersonation", "offline_access"}
	}
	return Params{
		AuthorizationURL: f.srv.URL + "/tenant/oauth2/v2.0/authorize",
		TokenURL:         f.srv.URL + "/tenant/oauth2/v2.0/token",
		ClientID:         fakeClientID,
		Scopes:           scopes,
	}
}

func (f *fakeEntra) script(replies ...scriptedReply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scripted = append(f.scripted, replies...)
}

func (f *fakeEntra) tokenRequests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.requests...)
}

func (f *fakeEntra) secrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{fakeClientSecret}, f.issued...)
}

func (f *fakeEntra) next(prefix string) string {
	f.seq++
	s := fmt.Sprintf("%s-%d-%d", prefix, f.seq, time.Now().UnixNano())
	f.issued = append(f.issued, s)
	return s
}

// approve plays the user approving the sign-in at authURL: it issues a code
// bound to the PKCE challenge and redirect_uri, as Entra does.
func (f *fakeEntra) approve(authURL string) (code, redirect, state string) {
	u, err := url.Parse(authURL)
	if err != nil {
		f.t.Errorf("authorize URL: %v", err)
		return
	}
	q := u.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	code = f.next("code")
	f.codes[code] = authorizeRequest{
		challenge: q.Get("code_challenge"),
		method:    q.Get("code_challenge_method"),
		redirect:  q.Get("redirect_uri"),
		scope:     q.Get("scope"),
	}
	return code, q.Get("redirect_uri"), q.Get("state")
}

// browser returns an opener that approves at once and follows the redirect,
// by GET (response_mode=query) or POST (form_post); mutate may change the
// callback parameters first.
func (f *fakeEntra) browser(formPost bool, mutate func(url.Values)) *RecordingOpener {
	return &RecordingOpener{OnOpen: func(authURL string) error {
		code, redirect, state := f.approve(authURL)
		v := url.Values{"code": {code}, "state": {state}}
		if mutate != nil {
			mutate(v)
		}
		var resp *http.Response
		var err error
		if formPost {
			resp, err = http.PostForm(redirect, v)
		} else {
			resp, err = http.Get(redirect + "?" + v.Encode())
		}
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}}
}

func jwtFor(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + ".c2lnbmF0dXJl"
}

func (f *fakeEntra) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("token request: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.PostForm)
	if r.URL.RawQuery != "" {
		f.t.Errorf("token request has a query %q; parameters belong in the body", r.URL.RawQuery)
	}
	if _, _, ok := r.BasicAuth(); ok {
		f.t.Errorf("token request used HTTP Basic auth; Entra needs the client in the body")
	}
	if len(f.scripted) > 0 {
		s := f.scripted[0]
		f.scripted = f.scripted[1:]
		for k, v := range s.header {
			w.Header().Set(k, v)
		}
		if s.header["Content-Type"] == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(s.status)
		fmt.Fprint(w, s.body)
		return
	}
	form := r.PostForm
	if form.Get("client_id") != fakeClientID {
		f.fail(w, 400, "unauthorized_client", 700016, "Application with identifier 'x' was not found in the directory 'tenant'.")
		return
	}
	if s := form.Get("client_secret"); s != "" && s != fakeClientSecret {
		f.fail(w, 401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return
	}
	switch form.Get("grant_type") {
	case "authorization_code":
		req, ok := f.codes[form.Get("code")]
		delete(f.codes, form.Get("code"))
		if !ok {
			f.fail(w, 400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
			return
		}
		f.issued = append(f.issued, form.Get("code_verifier"))
		sum := sha256.Sum256([]byte(form.Get("code_verifier")))
		if req.method != "S256" || base64.RawURLEncoding.EncodeToString(sum[:]) != req.challenge {
			f.fail(w, 400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
			return
		}
		if form.Get("redirect_uri") != req.redirect {
			f.fail(w, 400, "invalid_grant", 50011, "The redirect URI specified in the request does not match the redirect URIs configured for the application.")
			return
		}
		f.issue(w, form.Get("scope"), true)
	case "refresh_token":
		if !f.refresh[form.Get("refresh_token")] {
			f.fail(w, 400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
			return
		}
		delete(f.refresh, form.Get("refresh_token")) // rotation: each is good once
		f.issue(w, form.Get("scope"), true)
	case "client_credentials":
		if form.Get("client_secret") == "" {
			f.fail(w, 401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
			return
		}
		if !strings.HasSuffix(form.Get("scope"), "/.default") {
			f.fail(w, 400, "invalid_scope", 1002012, "The provided value for scope user_impersonation is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
			return
		}
		f.issue(w, form.Get("scope"), false)
	default:
		f.fail(w, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	}
}

func (f *fakeEntra) issue(w http.ResponseWriter, scope string, user bool) {
	claims := map[string]any{"aud": "https://org.crm.dynamics.com", "tid": "tenant"}
	if user {
		claims["preferred_username"] = fakeUser
	}
	access := jwtFor(claims)
	f.issued = append(f.issued, access)
	body := map[string]any{
		"token_type":     "Bearer",
		"scope":          strings.Join(strings.Fields(strings.ReplaceAll(scope, "offline_access", "")), " "),
		"expires_in":     3599,
		"ext_expires_in": 3599,
		"access_token":   access,
	}
	if f.stringExp {
		body["expires_in"] = "3599"
	}
	if user && strings.Contains(scope, "offline_access") {
		rt := f.next("refresh")
		f.refresh[rt] = true
		body["refresh_token"] = rt
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(body)
}

func (f *fakeEntra) fail(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(entraErrorBody(code, aadsts, desc)))
}

func entraErrorBody(code string, aadsts int, desc string) string {
	b, _ := json.Marshal(map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: 0000aaaa-1111-2222-3333-444455556666\r\nCorrelation ID: 9999aaaa-1111-2222-3333-444455556666\r\nTimestamp: 2026-01-02 03:04:05Z", aadsts, desc),
		"error_codes":       []int{aadsts},
		"timestamp":         "2026-01-02 03:04:05Z",
		"trace_id":          "0000aaaa-1111-2222-3333-444455556666",
		"correlation_id":    "9999aaaa-1111-2222-3333-444455556666",
	})
	return string(b)
}
