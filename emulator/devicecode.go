package emulator

import (
	"context"
	"crypto/rand"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Device authorization grant (RFC 8628) as Entra serves it: the app asks
// for a device code, the user types the short user code into
// {authority}/devicelogin on any device and approves, and the app polls
// the token endpoint until then.

const (
	deviceCodeLifetime = 15 * time.Minute // Entra's expires_in is 900
	// DefaultDeviceCodeInterval is the polling interval Entra announces.
	DefaultDeviceCodeInterval = 5 * time.Second
	// DefaultDeviceAutoApproveDelay is how long AutoApprove leaves a device
	// code pending: a client that never polls while pending (or that
	// mishandles authorization_pending) is caught, yet a headless run
	// finishes within one polling interval.
	DefaultDeviceAutoApproveDelay = 2 * time.Second
	// grant type names: RFC 8628's, and the short form azidentity sends.
	deviceGrantURN   = "urn:ietf:params:oauth:grant-type:device_code"
	deviceGrantShort = "device_code"
)

// deviceGrant is what a device code stands for until it is redeemed.
type deviceGrant struct {
	app      *app
	scopes   scopes
	userCode string
	expires  time.Time
	interval time.Duration
	lastPoll time.Time
	// autoApprove, when set, is when the code approves itself
	// (Options.AutoApprove).
	autoApprove time.Time
	approved    bool
	declined    bool
	redeemed    bool
}

func (e *Emulator) deviceInterval() time.Duration {
	if e.opts.DeviceCodeInterval > 0 {
		return e.opts.DeviceCodeInterval
	}
	return DefaultDeviceCodeInterval
}

// deviceCode serves POST /{tenant}/oauth2/v2.0/devicecode.
func (e *Emulator) deviceCode(w http.ResponseWriter, r *http.Request) {
	multi, ok := e.entraPost(w, r, "devicecode")
	if !ok {
		return
	}
	id := r.PostForm.Get("client_id")
	if id == "" {
		e.writeEntraJSON(w, r, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."))
		return
	}
	a := e.appByID(id)
	if a == nil {
		e.writeEntraJSON(w, r, errUnknownApp(id))
		return
	}
	if multi {
		e.writeEntraJSON(w, r, errSingleTenant(a))
		return
	}
	s, xerr := e.parseScopes(r.PostForm.Get("scope"))
	if xerr != nil {
		e.writeEntraJSON(w, r, xerr)
		return
	}
	device := randomToken("DAQ.EMU.")
	user := userCode()
	interval := e.deviceInterval()
	e.mu.Lock()
	if e.devices == nil {
		e.devices = map[string]*deviceGrant{}
	}
	g := &deviceGrant{app: a, scopes: s, userCode: user, expires: e.nowLocked().Add(deviceCodeLifetime), interval: interval}
	if e.opts.AutoApprove {
		delay := e.opts.DeviceAutoApproveDelay
		if delay <= 0 {
			delay = DefaultDeviceAutoApproveDelay
		}
		g.autoApprove = e.nowLocked().Add(delay)
	}
	e.devices[device] = g
	e.mu.Unlock()
	verify := e.authority + "/devicelogin"
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":      device,
		"user_code":        user,
		"verification_uri": verify,
		"expires_in":       int(deviceCodeLifetime / time.Second),
		"interval":         int(interval / time.Second),
		"message":          fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, user),
	})
}

// userCode is nine letters and digits without look-alikes, like Entra's.
func userCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// redeemDevice answers a device code poll. It runs with e.mu held.
func (e *Emulator) redeemDevice(a *app, p url.Values) (map[string]any, *entraError) {
	code := p.Get("device_code")
	if code == "" {
		return nil, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'device_code'.")
	}
	g := e.devices[code]
	now := e.nowLocked()
	switch {
	case g == nil:
		return nil, errMalformedGrant()
	case g.app != a:
		return nil, newErr(http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed. The device code was issued to another client.")
	case g.redeemed:
		return nil, newErr(http.StatusBadRequest, "invalid_grant", 54005, "The device code was already redeemed; start a new device code request.")
	case !now.Before(g.expires):
		return nil, newErr(http.StatusBadRequest, "expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
	case g.declined:
		// Entra's code for a declined request is not documented; 70000 is
		// its generic invalid grant.
		return nil, newErr(http.StatusBadRequest, "authorization_declined", 70000, "The end user declined the authorization request.")
	}
	last := g.lastPoll
	g.lastPoll = now
	if !g.approved && !g.autoApprove.IsZero() && !now.Before(g.autoApprove) {
		g.approved = true
		e.stats.SignIns++
	}
	if !g.approved {
		if !last.IsZero() && now.Sub(last) < g.interval {
			return nil, newErr(http.StatusBadRequest, "slow_down", 70016, "OAuth 2.0 device flow error. The client polled faster than every %s.", g.interval)
		}
		return nil, newErr(http.StatusBadRequest, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	g.redeemed = true
	s := g.scopes
	if raw := p.Get("scope"); raw != "" {
		var xerr *entraError
		if s, xerr = e.parseScopes(raw); xerr != nil {
			return nil, xerr
		}
	}
	return e.issueUser(a, s, union(g.scopes.oidc, s.oidc), "", now), nil
}

// PendingUserCodes lists the user codes waiting for approval, for tests
// that play the user without reading the app's output.
func (e *Emulator) PendingUserCodes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	now := e.nowLocked()
	for _, g := range e.devices {
		if !g.approved && !g.declined && !g.redeemed && now.Before(g.expires) {
			out = append(out, g.userCode)
		}
	}
	return out
}

// deviceLogin serves {authority}/devicelogin: GET asks for the code; a
// POST with otc shows what the code is for and the approve and decline
// buttons; a POST with decision settles it.
func (e *Emulator) deviceLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		_ = devicePage.Execute(w, map[string]any{"Error": "Only GET and POST are accepted."})
		return
	}
	if r.Method == http.MethodGet {
		_ = devicePage.Execute(w, map[string]any{"Ask": true})
		return
	}
	if err := r.ParseForm(); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = devicePage.Execute(w, map[string]any{"Error": "The form could not be read."})
		return
	}
	otc := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("otc")))
	decision := r.PostForm.Get("decision")
	e.mu.Lock()
	var g *deviceGrant
	for _, d := range e.devices {
		if d.userCode == otc && !d.redeemed && e.nowLocked().Before(d.expires) {
			g = d
		}
	}
	var msg string
	switch {
	case g == nil:
		msg = "That code is not valid or has expired. Check the code and try again."
	case g.approved || g.declined:
		msg = "That code was already used."
	case decision == "approve":
		g.approved = true
		e.stats.SignIns++
	case decision == "decline":
		g.declined = true
	}
	var appName, resource string
	if g != nil {
		appName, resource = g.app.Name, g.scopes.org.URL
	}
	e.mu.Unlock()
	switch {
	case msg != "":
		w.WriteHeader(http.StatusBadRequest)
		_ = devicePage.Execute(w, map[string]any{"Error": msg, "Ask": true})
	case decision == "approve":
		_ = devicePage.Execute(w, map[string]any{"Done": "You have signed in to " + appName + " on your device. You may now close this window."})
	case decision == "decline":
		_ = devicePage.Execute(w, map[string]any{"Done": "You declined to sign in to " + appName + "."})
	default:
		_ = devicePage.Execute(w, map[string]any{"Confirm": true, "Code": otc, "App": appName, "Resource": resource, "Account": e.user.upn})
	}
}

var devicePage = template.Must(template.New("device").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Enter code</title></head>
<body>
{{if .Error}}<p id="error">{{.Error}}</p>
{{end}}{{if .Ask}}<h1>Enter code</h1>
<form id="code-form" method="post" action="/devicelogin">
<label for="otc">Enter the code displayed on your app or device.</label>
<input id="otc" name="otc" type="text">
<button id="next" type="submit">Next</button>
</form>
{{end}}{{if .Confirm}}<h1>Are you trying to sign in to {{.App}}?</h1>
<p id="app">Signing in as {{.Account}} lets <b>{{.App}}</b> access {{.Resource}} on your behalf.</p>
<form id="approve-form" method="post" action="/devicelogin">
<input type="hidden" name="otc" value="{{.Code}}">
<button id="approve" type="submit" name="decision" value="approve">Continue</button>
<button id="decline" type="submit" name="decision" value="decline">Cancel</button>
</form>
{{end}}{{if .Done}}<p id="done">{{.Done}}</p>
{{end}}</body>
</html>
`))

// ApproveDeviceCode plays the user on another device: it opens the
// verification page, enters userCode and presses Continue. It returns the
// page's error text when the code is refused. A nil client means
// http.DefaultClient.
func ApproveDeviceCode(ctx context.Context, client *http.Client, verificationURI, userCode string) error {
	return settleDeviceCode(ctx, client, verificationURI, userCode, "approve")
}

// DeclineDeviceCode is ApproveDeviceCode pressing Cancel.
func DeclineDeviceCode(ctx context.Context, client *http.Client, verificationURI, userCode string) error {
	return settleDeviceCode(ctx, client, verificationURI, userCode, "decline")
}

func settleDeviceCode(ctx context.Context, client *http.Client, verificationURI, userCode, decision string) error {
	if client == nil {
		client = http.DefaultClient
	}
	page, err := url.Parse(verificationURI)
	if err != nil || page.Host == "" {
		return fmt.Errorf("device sign-in: the verification URI %q is not an absolute URL", verificationURI)
	}
	doc, err := fetchPage(ctx, client, http.MethodGet, page, nil)
	if err != nil {
		return err
	}
	form := find(doc, func(n *html.Node) bool { return attr(n, "id") == "code-form" })
	if form == nil {
		return fmt.Errorf("device sign-in: %s shows no code form", redact(page))
	}
	action, err := page.Parse(attr(form, "action"))
	if err != nil {
		return fmt.Errorf("device sign-in: the code form has an unusable action")
	}
	doc, err = fetchPage(ctx, client, http.MethodPost, action, url.Values{"otc": {userCode}})
	if err != nil {
		return err
	}
	confirm := find(doc, func(n *html.Node) bool { return attr(n, "id") == "approve-form" })
	if confirm == nil {
		return fmt.Errorf("device sign-in: the page shows no approval form")
	}
	fields := url.Values{"decision": {decision}}
	walk(confirm, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" {
			fields.Add(attr(n, "name"), attr(n, "value"))
		}
	})
	if action, err = page.Parse(attr(confirm, "action")); err != nil {
		return fmt.Errorf("device sign-in: the approval form has an unusable action")
	}
	_, err = fetchPage(ctx, client, http.MethodPost, action, fields)
	return err
}

// fetchPage requests one page and parses it; a page with an element of id
// "error" is an error holding its text.
func fetchPage(ctx context.Context, client *http.Client, method string, u *url.URL, form url.Values) (*html.Node, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("device sign-in: %w", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("device sign-in: requesting %s: %w", redact(u), unwrapURLError(err))
	}
	defer resp.Body.Close()
	doc, err := html.Parse(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("device sign-in: %s answered an unreadable page", redact(u))
	}
	if el := find(doc, func(n *html.Node) bool { return attr(n, "id") == "error" }); el != nil {
		return nil, fmt.Errorf("device sign-in was rejected: %s", strings.TrimSpace(text(el)))
	}
	if resp.StatusCode >= 400 {
		return nil, fmt.Errorf("device sign-in: %s answered %s", redact(u), resp.Status)
	}
	return doc, nil
}
