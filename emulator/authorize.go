package emulator

import (
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// codeLifetime is how long an authorization code can be redeemed.
const codeLifetime = 10 * time.Minute

// codeGrant is what an authorization code stands for.
type codeGrant struct {
	app       *app
	redirect  string // exactly as sent to authorize: the token request must repeat it
	scopes    scopes
	challenge string
	nonce     string
	expires   time.Time
	used      bool
}

func (e *Emulator) authorityHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{tenant}/oauth2/v2.0/authorize", e.authorize)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/token", e.token)
	mux.HandleFunc("/{tenant}/oauth2/v2.0/devicecode", e.deviceCode)
	mux.HandleFunc("/devicelogin", e.deviceLogin)
	mux.HandleFunc("/{tenant}/v2.0/.well-known/openid-configuration", e.discovery)
	mux.Handle(managedIdentityPath, e.ManagedIdentityHandler())
	return mux
}

// tenantCheck reports whether a path's tenant is this one. The
// multi-tenant aliases are recognised so that single-tenant apps fail on
// them with AADSTS50194, as they do at Entra.
func (e *Emulator) tenantCheck(name string) (multi bool, err *entraError) {
	switch {
	case strings.EqualFold(name, e.tenantID), strings.EqualFold(name, tenantDomain):
		return false, nil
	case name == "common", name == "organizations", name == "consumers":
		return true, nil
	}
	return false, newErr(http.StatusBadRequest, "invalid_request", 90002, "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", name)
}

func errSingleTenant(a *app) *entraError {
	return newErr(http.StatusBadRequest, "invalid_request", 50194, "Application '%s'(%s) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.", a.ClientID, a.Name)
}

func (e *Emulator) discovery(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	multi, xerr := e.tenantCheck(tenant)
	if xerr != nil {
		e.writeEntraJSON(w, r, xerr)
		return
	}
	if multi {
		// Entra's multi-tenant documents name a placeholder issuer.
		tenant = "{tenantid}"
	} else {
		tenant = e.tenantID
	}
	base := e.authority + "/" + r.PathValue("tenant")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                e.authority + "/" + tenant + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "client_secret_basic"},
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query", "form_post"},
		"scopes_supported":                      oidcScopes,
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"HS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "nbf", "name", "nonce", "oid", "preferred_username", "tid", "ver"},
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
	})
}

// authzRequest is a validated authorize request.
type authzRequest struct {
	app      *app
	redirect string   // as sent
	target   *url.URL // where the answer goes: the redirect with "/" for an empty path
	mode     string   // query or form_post
	state    string
	nonce    string
	prompt   string
	hint     string
	scopes   scopes
	params   url.Values
}

// authorize serves the sign-in: GET shows the page (or, with AutoApprove,
// answers at once); POST is the page's form.
func (e *Emulator) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		e.errorPage(w, r, newErr(http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts GET and POST requests. Received a %s request.", r.Method))
		return
	}
	if err := r.ParseForm(); err != nil {
		e.errorPage(w, r, newErr(http.StatusBadRequest, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid."))
		return
	}
	if e.fault(w, r, "authorize", r.Form.Get("client_id"), "") {
		return
	}
	req, xerr, trusted := e.validateAuthorize(r)
	if xerr != nil {
		if !trusted {
			e.errorPage(w, r, xerr)
			return
		}
		e.answerError(w, req, xerr)
		return
	}
	account := req.hint
	if r.Method == http.MethodPost {
		account = r.PostForm.Get("login")
	}
	if account == "" {
		account = e.user.upn
	}
	if req.prompt == "none" && !e.opts.AutoApprove {
		// No browser session is kept, so a silent request never finds one.
		e.answerError(w, req, newErr(http.StatusBadRequest, "login_required", 50058, "A silent sign-in request was sent but no user is signed in."))
		return
	}
	if r.Method == http.MethodGet && !e.opts.AutoApprove {
		e.signInPage(w, r, req, account)
		return
	}
	if !strings.EqualFold(account, e.user.upn) {
		e.errorPage(w, r, newErr(http.StatusBadRequest, "invalid_request", 50034, "The user account %s does not exist in the %s directory. To sign into this application, the account must be added to the directory.", account, tenantDomain))
		return
	}
	code := randomToken("0.EMU.")
	e.mu.Lock()
	e.codes[code] = &codeGrant{
		app:       req.app,
		redirect:  req.redirect,
		scopes:    req.scopes,
		challenge: req.params.Get("code_challenge"),
		nonce:     req.nonce,
		expires:   e.nowLocked().Add(codeLifetime),
	}
	e.stats.SignIns++
	e.mu.Unlock()
	e.answer(w, req, url.Values{"code": {code}, "session_state": {uuid.NewString()}})
}

// validateAuthorize checks a request in Entra's order. Until the client
// and its redirect URI are known good, errors are shown on Entra's own
// page (trusted is false); after that they go back to the app.
func (e *Emulator) validateAuthorize(r *http.Request) (req *authzRequest, xerr *entraError, trusted bool) {
	p := r.Form
	multi, xerr := e.tenantCheck(r.PathValue("tenant"))
	if xerr != nil {
		return nil, xerr, false
	}
	clientID := p.Get("client_id")
	if clientID == "" {
		return nil, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."), false
	}
	a := e.appByID(clientID)
	if a == nil {
		return nil, errUnknownApp(clientID), false
	}
	if multi {
		return nil, errSingleTenant(a), false
	}
	redirect := p.Get("redirect_uri")
	if redirect == "" {
		return nil, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'redirect_uri'."), false
	}
	target, ok := matchRedirect(a.Redirect, redirect)
	if !ok {
		return nil, errRedirectMismatch(a, redirect), false
	}
	req = &authzRequest{
		app: a, redirect: redirect, target: target, mode: p.Get("response_mode"),
		state: p.Get("state"), nonce: p.Get("nonce"), prompt: p.Get("prompt"), hint: p.Get("login_hint"), params: p,
	}
	switch req.mode {
	case "", "query":
		req.mode = "query"
	case "form_post":
	default:
		m := req.mode
		req.mode = "query"
		return req, newErr(http.StatusBadRequest, "invalid_request", 900144, "The response_mode '%s' is not supported; use query or form_post.", m), true
	}
	if rt := p.Get("response_type"); rt != "code" {
		return req, newErr(http.StatusBadRequest, "unsupported_response_type", 700054, "response_type '%s' is not enabled for the application.", rt), true
	}
	req.scopes, xerr = e.parseScopes(p.Get("scope"))
	if xerr != nil {
		return req, xerr, true
	}
	challenge, method := p.Get("code_challenge"), p.Get("code_challenge_method")
	switch {
	case challenge == "" && a.Public:
		return req, newErr(http.StatusBadRequest, "invalid_request", 9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption."), true
	case challenge != "" && method != "S256":
		return req, newErr(http.StatusBadRequest, "invalid_request", 9002313, "Invalid request. The code_challenge_method '%s' is not supported; use S256.", method), true
	case challenge != "" && (len(challenge) < 43 || len(challenge) > 128):
		return req, newErr(http.StatusBadRequest, "invalid_request", 501491, "Invalid size of Code_Challenge parameter."), true
	}
	return req, nil, true
}

func errUnknownApp(clientID string) *entraError {
	return newErr(http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenantDomain)
}

func errRedirectMismatch(a *app, redirect string) *entraError {
	return newErr(http.StatusBadRequest, "invalid_request", 50011, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.", redirect, a.ClientID)
}

// matchRedirect applies Entra's rule for a registered loopback redirect:
// scheme and host must match, the port is ignored, the path must match
// with an empty path equal to "/". 127.0.0.1 is not localhost. It returns
// where answers go: the requested URI with "/" for an empty path.
func matchRedirect(registered, requested string) (*url.URL, bool) {
	reg, err1 := url.Parse(registered)
	u, err2 := url.Parse(requested)
	if err1 != nil || err2 != nil || u.User != nil || u.Fragment != "" || u.RawQuery != "" {
		return nil, false
	}
	if !strings.EqualFold(reg.Scheme, u.Scheme) || !strings.EqualFold(reg.Hostname(), u.Hostname()) {
		return nil, false
	}
	if reg.Port() != "" && reg.Port() != u.Port() {
		return nil, false
	}
	if slash(reg.Path) != slash(u.Path) {
		return nil, false
	}
	t := *u
	t.Path = slash(u.Path)
	return &t, true
}

func slash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// answer sends parameters back to the app's redirect URI, with the
// request's state, by redirect or by an auto-submitting form.
func (e *Emulator) answer(w http.ResponseWriter, req *authzRequest, v url.Values) {
	if req.state != "" {
		v.Set("state", req.state)
	}
	if req.mode == "form_post" {
		type field struct{ Name, Value string }
		var fields []field
		for _, k := range slices.Sorted(maps.Keys(v)) {
			fields = append(fields, field{k, v.Get(k)})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = formPostPage.Execute(w, map[string]any{"Action": req.target.String(), "Fields": fields})
		return
	}
	u := *req.target
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// answerError sends an error back to the app, as Entra does once it
// trusts the redirect URI.
func (e *Emulator) answerError(w http.ResponseWriter, req *authzRequest, x *entraError) {
	noteError(w, x.Err+" AADSTS"+itoa(x.Code))
	e.answer(w, req, url.Values{"error": {x.Err}, "error_description": {x.Description()}, "error_codes": {itoa(x.Code)}})
}

func itoa(n int) string { return strconv.Itoa(n) }

func (e *Emulator) signInPage(w http.ResponseWriter, r *http.Request, req *authzRequest, account string) {
	type field struct{ Name, Value string }
	var hidden []field
	for _, k := range slices.Sorted(maps.Keys(req.params)) {
		if k != "login" {
			hidden = append(hidden, field{k, req.params.Get(k)})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = signInTemplate.Execute(w, map[string]any{
		"App":      req.app.Name,
		"Resource": req.scopes.org.URL,
		"Account":  account,
		"Action":   r.URL.Path,
		"Hidden":   hidden,
	})
}

// errorPage is Entra's own error page, shown when the app cannot be
// trusted with the answer. The message is in the element with id "error".
func (e *Emulator) errorPage(w http.ResponseWriter, r *http.Request, x *entraError) {
	noteError(w, x.Err+" AADSTS"+itoa(x.Code))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(x.Status)
	_ = errorTemplate.Execute(w, map[string]any{
		"Error":       x.Description(),
		"Request":     uuid.NewString(),
		"Correlation": correlationID(r),
		"Time":        e.Now().UTC().Format(time.RFC3339),
	})
}

var signInTemplate = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body>
<h1>Sign in</h1>
<p id="app"><b>{{.App}}</b> wants to access {{.Resource}} on your behalf.</p>
<form id="signin-form" method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label for="login">Account</label>
<input id="login" name="login" type="email" value="{{.Account}}">
<button id="signin" type="submit">Sign in</button>
</form>
</body>
</html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body>
<h1>Sorry, but we're having trouble signing you in.</h1>
<p id="error">{{.Error}}</p>
<p>Request Id: {{.Request}}<br>Correlation Id: {{.Correlation}}<br>Timestamp: {{.Time}}</p>
</body>
</html>
`))

var formPostPage = template.Must(template.New("formpost").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Working...</title></head>
<body onload="document.forms[0].submit()">
<form method="post" name="hiddenform" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript>
</form>
</body>
</html>
`))
