package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"connform/internal/retry"
)

// ErrNoBrowser reports that no browser could be opened for a sign-in. With
// Flow.NoBrowserFallback, AuthorizationCode returns it (wrapped) at once,
// so the caller can offer the device code flow instead of waiting for a
// person to open the printed URL.
var ErrNoBrowser = errors.New("no browser could be opened")

const (
	deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"
	// defaultInterval is RFC 8628's polling interval when the server
	// names none; slowDownStep is what each slow_down adds.
	defaultInterval = 5 * time.Second
	slowDownStep    = 5 * time.Second
)

// DeviceAuthorizationURL is the device code endpoint next to a token
// endpoint: Entra's .../oauth2/v2.0/devicecode beside .../oauth2/v2.0/token
// (azidentity derives it the same way).
func DeviceAuthorizationURL(tokenURL string) string {
	if base, ok := strings.CutSuffix(tokenURL, "/token"); ok {
		return base + "/devicecode"
	}
	return ""
}

// deviceAuth is Entra's answer to a device code request. device_code is a
// secret; user_code and the URI are meant to be shown.
type deviceAuth struct {
	DeviceCode      string          `json:"device_code"`
	UserCode        string          `json:"user_code"`
	VerificationURI string          `json:"verification_uri"`
	ExpiresIn       json.RawMessage `json:"expires_in"` // a number, or a numeric string
	Interval        json.RawMessage `json:"interval"`
	Message         string          `json:"message"`
}

// DeviceCode signs the user in with the device authorization grant (RFC
// 8628): show receives the page to visit and the code to type there (and
// Entra's ready-made sentence saying so), then the token endpoint is
// polled until the user approves, declines, or the code expires. The poll
// waits through Flow.Sleep, honours the server's interval and adds 5s on
// every slow_down. Works without a browser on this machine.
//
// x/oauth2's DeviceAccessToken is not used: it polls on a wall-clock
// ticker that tests cannot replace, and drops Entra's message.
func (f *Flow) DeviceCode(ctx context.Context, p Params, show func(verificationURI, userCode, message string)) (*Result, error) {
	if err := p.require("device code sign-in", false); err != nil {
		return nil, err
	}
	endpoint := DeviceAuthorizationURL(p.TokenURL)
	if endpoint == "" {
		return nil, fmt.Errorf("device code sign-in: cannot derive the device code endpoint from token_url %q (it should end in /token)", p.TokenURL)
	}
	da, err := f.startDevice(ctx, endpoint, p)
	if err != nil {
		return nil, fmt.Errorf("device code sign-in: %w", err)
	}
	interval := defaultInterval
	if s, ok := seconds(rawNumber(da.Interval)); ok {
		interval = time.Duration(s) * time.Second
	}
	expires := f.now().Add(15 * time.Minute)
	if s, ok := seconds(rawNumber(da.ExpiresIn)); ok {
		expires = f.now().Add(time.Duration(s) * time.Second)
	}
	// Wait no longer than -auth-timeout, nor than the code is valid.
	start := f.now()
	byTimeout := false
	if deadline := start.Add(f.timeout()); deadline.Before(expires) {
		expires, byTimeout = deadline, true
	}
	if show != nil {
		show(da.VerificationURI, da.UserCode, da.Message)
	}
	f.waiting(0, expires.Sub(start))
	reminded := start

	poll := &clientcredentials.Config{
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		TokenURL:     p.TokenURL,
		Scopes:       p.Scopes,
		AuthStyle:    oauth2.AuthStyleInParams,
		EndpointParams: url.Values{
			"grant_type":  {deviceGrantType},
			"device_code": {da.DeviceCode},
		},
	}
	for {
		if err := f.sleep(ctx, interval); err != nil {
			return nil, fmt.Errorf("device code sign-in: cancelled while waiting for the code to be entered: %w", err)
		}
		now := f.now()
		if !now.Before(expires) {
			if byTimeout {
				return nil, fmt.Errorf("device code sign-in: %w within %s (-auth-timeout); run again and enter the code within that time", errNotCompleted, expires.Sub(start))
			}
			return nil, errDeviceExpired
		}
		if f.WaitEvery > 0 && now.Sub(reminded) >= f.WaitEvery {
			reminded = now
			f.waiting(now.Sub(start), expires.Sub(now))
		}
		res, err := f.retrieve(ctx, p, func(ctx context.Context) (*oauth2.Token, error) { return poll.Token(ctx) })
		if err == nil {
			return res, nil
		}
		var e *Error
		if !errors.As(err, &e) {
			return nil, fmt.Errorf("device code sign-in: %w", err)
		}
		switch e.Code {
		case "authorization_pending":
		case "slow_down":
			interval += slowDownStep
		case "expired_token":
			return nil, errDeviceExpired
		case "authorization_declined", "access_denied":
			return nil, fmt.Errorf("device code sign-in: the sign-in was declined on the verification page; run again and choose Continue: %w", e)
		default:
			return nil, fmt.Errorf("device code sign-in: %w", e)
		}
	}
}

// errNotCompleted is a browser sign-in nobody finished in time.
var errNotCompleted = errors.New("no sign-in completed")

// Unfinished reports whether a sign-in failed because the person did not
// finish it (no one signed in in time, the code expired, it was declined or
// cancelled), rather than because of the connection's settings. Asking the
// same person again at once, for another org of the account, would end the
// same way.
func Unfinished(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Code == "access_denied" || e.Code == "authorization_declined"
	}
	return errors.Is(err, errNotCompleted) || errors.Is(err, errDeviceExpired) || errors.Is(err, context.Canceled)
}

var errDeviceExpired = errors.New("device code sign-in: the code expired before anyone entered it; run again and enter the new code within the time shown")

// startDevice asks for a device code, retrying transient failures like a
// token request.
func (f *Flow) startDevice(ctx context.Context, endpoint string, p Params) (*deviceAuth, error) {
	client := f.client()
	form := url.Values{"client_id": {p.ClientID}, "scope": {strings.Join(p.Scopes, " ")}}
	var da *deviceAuth
	err := retry.Do(ctx, f.retryPolicy("device code endpoint"), func() (time.Duration, bool, error) {
		var wait time.Duration
		var err error
		da, wait, err = requestDevice(ctx, client, endpoint, form, f.now())
		var e *Error
		return wait, errors.As(err, &e) && e.Transient(), err
	})
	if err != nil {
		return nil, err
	}
	return da, nil
}

// requestDevice sends one device code request. wait is the server's
// Retry-After, or 0 when it sent none.
func requestDevice(ctx context.Context, client *http.Client, endpoint string, form url.Values, now time.Time) (*deviceAuth, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("requesting a device code from %s: %w", endpoint, unwrapURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the device code answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var eb entraError
		_ = json.Unmarshal(body, &eb) // a non-JSON body is not shown: it is not Entra's
		return nil, retry.ParseRetryAfter(resp.Header.Get("Retry-After"), now), newError(resp.StatusCode, eb.Error, eb.ErrorDescription, eb.ErrorCodes, eb.CorrelationID, eb.TraceID)
	}
	var da deviceAuth
	if err := json.Unmarshal(body, &da); err != nil || da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, 0, fmt.Errorf("the device code endpoint %s answered without device_code, user_code and verification_uri", endpoint)
	}
	return &da, 0, nil
}

// rawNumber turns a JSON number or numeric string into what seconds reads.
func rawNumber(raw json.RawMessage) any {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// unwrapURL drops *url.Error's text, which repeats the URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
