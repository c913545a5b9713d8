package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"connform/internal/retry"
	"connform/internal/safetext"
)

// Params are the endpoints and client of one connection, and what to ask for.
type Params struct {
	AuthorizationURL, TokenURL, ClientID, ClientSecret, Redirect string
	Scopes                                                       []string
	Prompt                                                       string // login, none, consent, select_account
	LoginHint                                                    string
}

// Flow obtains tokens. Its zero value works: every field has a default.
type Flow struct {
	// HTTPClient is used for token requests; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Opener opens the sign-in page; nil means no browser can be opened, and
	// the user opens the URL given to Notify.
	Opener Opener
	// Notify is called with the authorize URL before the browser is opened,
	// so the CLI can print it ("If the browser does not open, visit: ...").
	// The URL holds no secret: the PKCE challenge is public, the verifier
	// never leaves this process.
	Notify func(authorizeURL string)
	// NoBrowserFallback makes AuthorizationCode return ErrNoBrowser at once
	// when no browser can be opened (Opener nil, or Open fails) instead of
	// waiting for a person to open the printed URL, so the caller can use
	// the device code flow.
	NoBrowserFallback bool
	// ListenHost is the loopback address the sign-in callback listens on;
	// default 127.0.0.1. Only loopback addresses are accepted.
	ListenHost string
	// Timeout is how long to wait for a person: the browser callback, or
	// the device code's approval (at most as long as the code is valid);
	// default 5m.
	Timeout time.Duration
	// Waiting is told, while a sign-in waits for a person, how long it has
	// waited and how long it still will: once when the wait starts, then
	// every WaitEvery (0: only at the start), so nobody waits in silence.
	Waiting   func(waited, left time.Duration)
	WaitEvery time.Duration
	// Now is the clock for expiry times; nil means time.Now.
	Now func() time.Time
	// Sleep waits between retries of a transient token endpoint failure and
	// between device code polls; nil means a timer that ends early when ctx
	// is done. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, when set, hears of each wait before a transient failure is
	// tried again, e.g. "token endpoint answered 503, retrying in 4 s
	// (attempt 2 of 4)", so that a slow run says why it is slow.
	OnRetry func(message string)

	listening func(addr net.Addr) // tests: where the callback listener is bound
}

// Result is what a flow obtained. It holds secrets: store it, never print it.
type Result struct {
	AccessToken string
	// RefreshToken is the newest refresh token: "" when none was issued; for
	// Refresh, the token presented when Entra did not rotate it.
	RefreshToken string
	Expiry       time.Time
	Scopes       []string // granted (the response's scope), else requested
	// Account is the user name from the access token's (unverified) claims:
	// preferred_username, upn or unique_name; "" for app tokens.
	Account string
}

const (
	// DefaultTimeout is how long AuthorizationCode waits for the browser.
	DefaultTimeout = 5 * time.Minute
	maxAttempts    = 4
	maxRetryAfter  = 30 * time.Second
	firstBackoff   = 500 * time.Millisecond
)

func (f *Flow) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Flow) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return DefaultTimeout
}

func (f *Flow) waiting(waited, left time.Duration) {
	if f.Waiting != nil {
		f.Waiting(waited, left)
	}
}

func (f *Flow) ctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, f.client())
}

func (f *Flow) sleep(ctx context.Context, d time.Duration) error {
	if f.Sleep != nil {
		return f.Sleep(ctx, d)
	}
	return retry.Sleep(ctx, d)
}

// retryPolicy is how token and device code requests are retried: a busy
// Entra usually answers within a few seconds. endpoint names the request in
// retry notices ("token endpoint").
func (f *Flow) retryPolicy(endpoint string) retry.Policy {
	p := retry.Policy{Attempts: maxAttempts, FirstBackoff: firstBackoff, MaxWait: maxRetryAfter, Sleep: f.Sleep}
	if f.OnRetry != nil {
		p.OnRetry = func(n retry.Notice) { f.OnRetry(retryMessage(endpoint, n)) }
	}
	return p
}

// retryMessage says what failed in a retry notice: the status alone, since
// a description from the server is long and already logged.
func retryMessage(endpoint string, n retry.Notice) string {
	var e *Error
	what := endpoint + " failed"
	if errors.As(n.Err, &e) {
		switch {
		case e.StatusCode != 0:
			what = fmt.Sprintf("%s answered %d", endpoint, e.StatusCode)
		case e.Code != "":
			what = endpoint + " answered " + e.Code
		}
	}
	return what + ", " + n.String()
}

// ClientCredentials obtains an app-only token with the client secret.
func (f *Flow) ClientCredentials(ctx context.Context, p Params) (*Result, error) {
	if err := p.require("client credentials", true); err != nil {
		return nil, err
	}
	cc := &clientcredentials.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		TokenURL:     p.TokenURL,
		Scopes:       p.Scopes,
		AuthStyle:    oauth2.AuthStyleInParams,
	}
	return f.retrieve(ctx, p, func(ctx context.Context) (*oauth2.Token, error) {
		return cc.Token(ctx)
	})
}

// Refresh redeems refreshToken for the scopes in p. Entra rotates refresh
// tokens: the caller must persist Result.RefreshToken before using the
// access token.
func (f *Flow) Refresh(ctx context.Context, p Params, refreshToken string) (*Result, error) {
	if err := p.require("refresh", false); err != nil {
		return nil, err
	}
	if refreshToken == "" {
		return nil, errors.New("refresh: no refresh token is stored for this account; sign in again")
	}
	// Config.TokenSource would refresh without a scope, but one refresh token
	// serves every org of the account, so the scope must name the org. The
	// client credentials request lets grant_type be overridden for exactly
	// such needs, and sends client_id, scope and the secret (when any).
	rc := &clientcredentials.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		TokenURL:     p.TokenURL,
		Scopes:       p.Scopes,
		AuthStyle:    oauth2.AuthStyleInParams,
		EndpointParams: url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {refreshToken},
		},
	}
	return f.retrieve(ctx, p, func(ctx context.Context) (*oauth2.Token, error) {
		return rc.Token(ctx)
	})
}

func (p Params) require(flow string, secret bool) error {
	var missing []string
	if p.TokenURL == "" {
		missing = append(missing, "token_url")
	}
	if p.ClientID == "" {
		missing = append(missing, "client_id")
	}
	if secret && p.ClientSecret == "" {
		missing = append(missing, "client_secret")
	}
	if len(p.Scopes) == 0 {
		missing = append(missing, "scopes")
	}
	if len(missing) > 0 {
		return errors.New(flow + ": missing " + strings.Join(missing, ", "))
	}
	return nil
}

// retrieve runs one token request, retrying transient failures, and turns
// the answer into a Result.
func (f *Flow) retrieve(ctx context.Context, p Params, request func(context.Context) (*oauth2.Token, error)) (*Result, error) {
	rctx := f.ctx(ctx)
	var tok *oauth2.Token
	err := retry.Do(ctx, f.retryPolicy("token endpoint"), func() (time.Duration, bool, error) {
		t, err := request(rctx)
		if err == nil {
			tok = t
			return 0, false, nil
		}
		var wait time.Duration
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			wait = retry.ParseRetryAfter(re.Response.Header.Get("Retry-After"), f.now())
		}
		err = tokenError(err)
		var e *Error
		return wait, errors.As(err, &e) && e.Transient(), err
	})
	if err != nil {
		return nil, err
	}
	return f.result(tok, p.Scopes), nil
}

func (f *Flow) result(tok *oauth2.Token, requested []string) *Result {
	r := &Result{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
		Scopes:       requested,
	}
	// x/oauth2 reads expires_in as a number or a numeric string, but dates
	// it with time.Now; use the flow's clock so tests and callers agree.
	if s, ok := seconds(tok.Extra("expires_in")); ok {
		r.Expiry = f.now().Add(time.Duration(s) * time.Second)
	}
	if s, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		r.Scopes = strings.Fields(s)
	}
	r.Account = accountOf(tok.AccessToken)
	if r.Account == "" {
		if id, ok := tok.Extra("id_token").(string); ok {
			r.Account = accountOf(id)
		}
	}
	return r
}

func seconds(v any) (int64, bool) {
	switch v := v.(type) {
	case float64:
		return int64(v), v > 0
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil && n > 0
	case json.Number:
		n, err := v.Int64()
		return n, err == nil && n > 0
	}
	return 0, false
}

// accountOf reads the user name from a JWT's claims without verifying its
// signature: the token came straight from the token endpoint over TLS, and
// the name is only used to label the stored grant.
func accountOf(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
		UPN               string `json:"upn"`
		UniqueName        string `json:"unique_name"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	for _, s := range []string{claims.PreferredUsername, claims.UPN, claims.UniqueName} {
		if s != "" {
			return safetext.Line(s, safetext.FieldMax) // shown as "signed in as"
		}
	}
	return ""
}
