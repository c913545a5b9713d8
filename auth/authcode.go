package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/oauth2"
)

// AuthorizationCode signs the user in through the browser: authorization
// code with PKCE (S256), the code coming back to a one-shot listener on the
// loopback interface.
func (f *Flow) AuthorizationCode(ctx context.Context, p Params) (*Result, error) {
	if err := p.require("browser sign-in", false); err != nil {
		return nil, err
	}
	if p.AuthorizationURL == "" {
		return nil, errors.New("browser sign-in: missing authorization_url")
	}
	if f.Opener == nil && f.NoBrowserFallback {
		return nil, fmt.Errorf("browser sign-in: %w", ErrNoBrowser)
	}
	host := f.ListenHost
	if host == "" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		// Anything else would let other machines reach the callback.
		return nil, fmt.Errorf("browser sign-in: listen host %q is not a loopback IP address; use 127.0.0.1", host)
	}
	redirect, err := loopbackRedirect(p.Redirect)
	if err != nil {
		return nil, err
	}
	ln, twin, err := listenLoopback(host)
	if err != nil {
		return nil, fmt.Errorf("browser sign-in: cannot listen on %s for the sign-in callback: %w", host, err)
	}
	if f.listening != nil {
		f.listening(ln.Addr())
	}
	redirect.Host = net.JoinHostPort(redirect.Hostname(), strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))

	state, err := randomString()
	if err != nil {
		ln.Close()
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	conf := &oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   p.AuthorizationURL,
			TokenURL:  p.TokenURL,
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: redirect.String(),
		Scopes:      p.Scopes,
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if p.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", p.Prompt))
	}
	if p.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", p.LoginHint))
	}
	authURL := conf.AuthCodeURL(state, opts...)

	cb := newCallback(redirect.Path, state)
	srv := &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	if twin != nil {
		go srv.Serve(twin)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()

	switch {
	case f.Opener != nil && f.NoBrowserFallback:
		// Open first: when it fails the caller switches flows, and the URL
		// printed by Notify would only mislead.
		if err := f.Opener.Open(authURL); err != nil {
			return nil, fmt.Errorf("browser sign-in: %w (%v)", ErrNoBrowser, err)
		}
		if f.Notify != nil {
			f.Notify(authURL)
		}
	default:
		if f.Notify != nil {
			f.Notify(authURL)
		}
		if f.Opener != nil {
			// A failure to open is not fatal: the user was given the URL.
			_ = f.Opener.Open(authURL)
		}
	}

	timeout := f.timeout()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	f.waiting(0, timeout)
	var remind <-chan time.Time
	if f.WaitEvery > 0 {
		t := time.NewTicker(f.WaitEvery)
		defer t.Stop()
		remind = t.C
	}
	start := time.Now()
	var code string
	for code == "" {
		select {
		case r := <-cb.done:
			if r.err != nil {
				return nil, r.err
			}
			code = r.code
		case <-remind:
			waited := time.Since(start)
			f.waiting(waited, timeout-waited)
		case <-timer.C:
			// Entra shows its refusals on the page, never to connform, so
			// the likely causes are named here.
			return nil, fmt.Errorf("browser sign-in: %w within %s (-auth-timeout). If the page showed an error, its AADSTS code names the cause; the usual ones: client_id is not an app of tenant_id, "+
				"the app has no redirect URI http://localhost under \"Mobile and desktop applications\", or the account has no access to the org. "+
				"Run again, or open the sign-in URL shown above in a browser on this machine (from another machine: docs/signin.md)", errNotCompleted, timeout)
		case <-ctx.Done():
			return nil, fmt.Errorf("browser sign-in: cancelled while waiting for the browser: %w", ctx.Err())
		}
	}

	return f.retrieve(ctx, p, func(ctx context.Context) (*oauth2.Token, error) {
		return conf.Exchange(ctx, code,
			oauth2.VerifierOption(verifier),
			oauth2.SetAuthURLParam("scope", strings.Join(p.Scopes, " ")))
	})
}

// listenLoopback listens on host at a free port and holds the same port on
// the other loopback address (::1 beside 127.0.0.1, and the reverse), so
// that a browser resolving localhost to either reaches connform, never
// another local process listening there. twin is nil where the machine has
// no such address. A port taken on the other address is given up for
// another.
func listenLoopback(host string) (ln, twin net.Listener, err error) {
	other := "::1"
	if ip := net.ParseIP(host); ip.To4() == nil {
		other = "127.0.0.1"
	}
	for range 20 {
		ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, nil, err
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		twin, err = net.Listen("tcp", net.JoinHostPort(other, port))
		switch {
		case err == nil:
			return ln, twin, nil
		case !errors.Is(err, syscall.EADDRINUSE):
			return ln, nil, nil // no such loopback address here
		}
		ln.Close()
	}
	return nil, nil, fmt.Errorf("no port is free on both %s and %s: %w", host, other, err)
}

// loopbackRedirect derives the redirect_uri from the configured one: Entra
// ignores the port of a loopback redirect, so connform listens on any free
// port and sends that port. A redirect without a path comes back with "/".
func loopbackRedirect(configured string) (*url.URL, error) {
	if configured == "" {
		configured = "http://localhost"
	}
	u, err := url.Parse(configured)
	if err != nil || u.Scheme != "http" || (u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1") {
		return nil, fmt.Errorf("browser sign-in: redirect %q is not a loopback address; register and use http://localhost", configured)
	}
	r := &url.URL{Scheme: "http", Host: u.Hostname(), Path: u.Path}
	if r.Path == "" {
		r.Path = "/"
	}
	return r, nil
}

func randomString() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("browser sign-in: cannot generate a random state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

type callbackResult struct {
	code string
	err  error
}

// callback receives the authorization server's redirect once; later
// requests get a "nothing to do" page.
type callback struct {
	path  string
	state string
	once  sync.Once
	done  chan callbackResult
}

func newCallback(path, state string) *callback {
	return &callback{path: path, state: state, done: make(chan callbackResult, 1)}
}

func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != c.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// FormValue reads both the query (response_mode=query) and a posted form
	// (response_mode=form_post), the form first.
	if err := r.ParseForm(); err != nil {
		page(w, http.StatusBadRequest, "Sign-in failed: the sign-in response could not be read.")
		return
	}
	if r.Form.Get("state") == "" && r.Form.Get("code") == "" && r.Form.Get("error") == "" {
		// Not a sign-in response (a reload, a stray visit): it must not end
		// the wait.
		page(w, http.StatusBadRequest, "This address receives connform's sign-in response; there is nothing to see here.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.FormValue("state")), []byte(c.state)) != 1 {
		// Another attempt's response, or one forged by any local process
		// (the port is no secret): refuse it, and keep waiting for ours.
		page(w, http.StatusBadRequest, "This sign-in response does not belong to the sign-in connform is waiting for (state mismatch); it may come from an earlier attempt. Use the sign-in page connform opened last.")
		return
	}
	var res callbackResult
	switch {
	case r.FormValue("error") != "":
		res.err = newError(0, r.FormValue("error"), r.FormValue("error_description"), nil, r.FormValue("correlation_id"), r.FormValue("trace_id"))
	case r.FormValue("code") == "":
		res.err = errors.New("browser sign-in: the sign-in response holds no authorization code; run again")
	default:
		res.code = r.FormValue("code")
	}
	delivered := false
	c.once.Do(func() {
		c.done <- res
		delivered = true
	})
	switch {
	case !delivered:
		page(w, http.StatusOK, "This sign-in is already complete. You can close this window.")
	case res.err != nil:
		page(w, http.StatusBadRequest, "Sign-in failed: "+res.err.Error()+". You can close this window and return to connform.")
	default:
		page(w, http.StatusOK, "Signed in. You can close this window.")
	}
}

func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><html><head><meta charset=\"utf-8\"><title>connform</title></head><body><p>%s</p></body></html>\n", html.EscapeString(msg))
}
