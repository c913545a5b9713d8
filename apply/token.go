package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"connform/auth"
	"connform/config"
)

// token returns an access token for c's org, obtained the quietest way
// possible: a valid cached token, client credentials, the account's refresh
// token, and only then an interactive sign-in. Work on one account key is
// serialised, because Entra rotates the refresh token on every use and two
// parallel refreshes would invalidate each other.
// With fresh, a cached access token is not used: the plan saw the app's
// credential change, and only a new token proves the new one.
func (r *runner) token(ctx context.Context, c *config.Connection, key string, fresh bool) (string, string, error) {
	g := r.group(key)
	g.Lock()
	defer g.Unlock()

	grant, err := r.opt.Store.Get(key)
	if err != nil {
		return "", "", fmt.Errorf("%s: reading the token store: %w", c.Addr, err)
	}
	if grant == nil {
		grant = &auth.Grant{}
	}
	log := r.opt.Log.With("address", c.Addr, "account_key", key)
	if at := grant.Access[c.URL]; !fresh && at.Valid(r.opt.Now()) && auth.ScopesCover(at.Scopes, c.Scopes) {
		log.Debug("token from the store", "expires", at.Expiry)
		return at.Token, grant.Account, nil
	}
	p := auth.Params{
		AuthorizationURL: c.AuthorizationURL,
		TokenURL:         c.TokenURL,
		ClientID:         c.ClientID,
		ClientSecret:     c.ClientSecret,
		Redirect:         c.Redirect,
		Scopes:           c.Scopes,
		Prompt:           c.Prompt,
		LoginHint:        c.LoginHint,
	}

	if config.IsNativeMethod(c.AuthenticationMethod) {
		log.Debug("token from an Entra credential", "method", c.AuthenticationMethod, "fresh", fresh)
		return r.credentialToken(ctx, c, key, grant, p)
	}
	if c.GrantType == config.GrantClientCredentials {
		log.Debug("token by client credentials", "fresh", fresh)
		res, err := r.opt.Flow.ClientCredentials(ctx, p)
		if err != nil {
			return "", "", r.authError(c, "signing in with the client secret", err)
		}
		grant.Account = "app"
		return r.save(c, key, grant, res)
	}

	why := "no token"
	if grant.RefreshToken != "" {
		r.opt.Events(Event{Addr: c.Addr, Kind: EventRefreshing})
		res, err := r.opt.Flow.Refresh(ctx, p, grant.RefreshToken)
		if err == nil {
			log.Debug("token by refresh", "rotated", res.RefreshToken != "" && res.RefreshToken != grant.RefreshToken)
			return r.save(c, key, grant, res)
		}
		log.Debug("refresh failed", "error", err.Error())
		var ae *auth.Error
		if !errors.As(err, &ae) || !(ae.SignInAgain() || ae.InteractionRequired()) {
			return "", "", r.authError(c, "refreshing the token", err)
		}
		// The refresh token is dead: drop it so no later run trips on it,
		// and fall back to a person.
		why = "the refresh token was refused: " + auth.Reason(ae)
		if ae.Has(65001) {
			// Entra wants consent for this org's scopes: ask for it, or the
			// new sign-in would be refused the same way.
			p.Prompt = "consent"
		}
		grant.RefreshToken = ""
		grant.RefreshDropped = r.opt.Now().UTC().Format("2006-01-02 15:04 MST") + ": " + ae.Error()
		if err := r.opt.Store.Put(key, grant); err != nil {
			return "", "", fmt.Errorf("%s: updating the token store: %w", c.Addr, err)
		}
	}
	if !r.opt.Interactive {
		return "", "", fmt.Errorf("%s needs an interactive sign-in (%s), but input is disabled (-input=false); run connform apply in a terminal, or connform login", c.Addr, why)
	}

	r.signIn.Lock()
	defer r.signIn.Unlock()
	// One person, one account: when they did not finish its sign-in (timed
	// out, cancelled, declined) or the app itself is misconfigured (a wrong
	// secret, an unregistered redirect), asking again for every other org of the
	// account would cost a timeout each and end the same way.
	r.mu.Lock()
	failedAt := r.failedSignIns[key]
	r.mu.Unlock()
	if failedAt != "" {
		return "", "", fmt.Errorf("%s: not signing in again: the sign-in for this account failed for %s in this run (see its error); fix that and run again", c.Addr, failedAt)
	}
	log.Debug("interactive sign-in", "reason", why, "grant_type", c.GrantType)
	res, err := r.interactiveSignIn(ctx, c, p, why)
	if err != nil && (auth.Unfinished(err) || auth.AppMisconfigured(err)) {
		r.mu.Lock()
		if r.failedSignIns == nil {
			r.failedSignIns = map[string]string{}
		}
		r.failedSignIns[key] = c.Addr
		r.mu.Unlock()
	}
	if err != nil {
		return "", "", err
	}
	r.mu.Lock()
	r.interactive++
	r.mu.Unlock()
	return r.save(c, key, grant, res)
}

// save stores a fresh token result before it is used: the rotated refresh
// token exists nowhere else, so losing it would force a sign-in next time.
func (r *runner) save(c *config.Connection, key string, grant *auth.Grant, res *auth.Result) (string, string, error) {
	if res.RefreshToken != "" {
		grant.RefreshToken = res.RefreshToken
		grant.RefreshDropped = ""
	}
	if res.Account != "" {
		grant.Account = res.Account
	}
	if grant.Access == nil {
		grant.Access = map[string]*auth.AccessToken{}
	}
	grant.Access[c.URL] = &auth.AccessToken{Token: res.AccessToken, Expiry: res.Expiry, Scopes: res.Scopes}
	if err := r.opt.Store.Put(key, grant); err != nil {
		return "", "", fmt.Errorf("%s: saving the token: %w", c.Addr, err)
	}
	return res.AccessToken, grant.Account, nil
}

// interactiveSignIn asks a person. grant_type = "device_code" uses the
// device flow. Otherwise the browser flow runs; when no browser can be
// opened, a public client (no client_secret: its registration may allow
// public client flows) switches to the device flow, while a confidential
// client keeps waiting for the user to open the printed URL, because
// Entra refuses the device flow to apps that do not allow public flows.
func (r *runner) interactiveSignIn(ctx context.Context, c *config.Connection, p auth.Params, why string) (*auth.Result, error) {
	if c.GrantType == config.GrantDeviceCode {
		return r.deviceCode(ctx, c, p)
	}
	f := *r.opt.Flow
	f.NoBrowserFallback = c.ClientSecret == ""
	// Say "browser opened" only once it has: a public client without a
	// browser switches to the device flow, whose instructions are the
	// only thing worth printing.
	announce := func(how string) {
		r.opt.Events(Event{Addr: c.Addr, Kind: EventSigningIn, Message: why + "; " + how})
	}
	if browser := f.Opener; browser != nil {
		f.Opener = auth.OpenerFunc(func(u string) error {
			if err := browser.Open(u); err != nil {
				if !f.NoBrowserFallback {
					announce("no browser could be opened: open the sign-in URL above")
				}
				return err
			}
			announce("browser opened")
			return nil
		})
	} else if !f.NoBrowserFallback {
		announce("no browser: open the sign-in URL below")
	}
	res, err := f.AuthorizationCode(ctx, p)
	if errors.Is(err, auth.ErrNoBrowser) {
		// Say why, or a broken CONNFORM_BROWSER would go unnoticed.
		announce(strings.TrimPrefix(err.Error(), "browser sign-in: ") + "; signing in with a device code instead")
		return r.deviceCode(ctx, c, p)
	}
	if err != nil {
		return nil, r.authError(c, "signing in", err)
	}
	return res, nil
}

// deviceCode runs the device flow, showing its instructions as an event.
func (r *runner) deviceCode(ctx context.Context, c *config.Connection, p auth.Params) (*auth.Result, error) {
	res, err := r.opt.Flow.DeviceCode(ctx, p, func(uri, code, message string) {
		if message == "" {
			message = fmt.Sprintf("To sign in, open %s in a browser on any device and enter the code %s.", uri, code)
		}
		r.opt.Events(Event{Addr: c.Addr, Kind: EventDeviceCode, Message: message})
	})
	if err != nil {
		return nil, r.authError(c, "signing in with a device code", err)
	}
	return res, nil
}

// authError says which connection failed doing what. Entra's refusals are
// explained in plain words with what to fix (auth.Explain); the cause stays
// reachable through errors.As.
func (r *runner) authError(c *config.Connection, doing string, err error) error {
	if errors.Is(err, context.Canceled) {
		// Ctrl-C: the reason is known; the chain of wrappers says nothing more.
		return fmt.Errorf("%s: %s was interrupted: %w", c.Addr, doing, context.Canceled)
	}
	var ae *auth.Error
	if errors.As(err, &ae) {
		// The explanations name scopes generically; this connection's org
		// makes them copyable.
		return &explainedError{msg: strings.ReplaceAll(auth.Explain(c.Addr, err), "{org}", c.URL), err: err}
	}
	return fmt.Errorf("%s: %s failed: %w", c.Addr, doing, err)
}

type explainedError struct {
	msg string
	err error
}

func (e *explainedError) Error() string { return e.msg }
func (e *explainedError) Unwrap() error { return e.err }
