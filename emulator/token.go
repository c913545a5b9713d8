package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// refreshGrant is what a refresh token stands for: a user's consent to a
// client, not bound to any one resource.
type refreshGrant struct {
	app     *app
	oidc    []string
	scopes  scopes // used when a refresh request names no scope
	issued  time.Time
	expires time.Time
	spent   bool // rotated: a newer token replaced it
	revoked bool
}

// token serves the token endpoint: authorization_code, refresh_token and
// client_credentials grants, with the client authenticated by body
// parameters or HTTP Basic.
func (e *Emulator) token(w http.ResponseWriter, r *http.Request) {
	multi, ok := e.entraPost(w, r, "token")
	if !ok {
		return
	}
	a, xerr := e.clientAuth(r)
	if xerr == nil && multi {
		xerr = errSingleTenant(a)
	}
	if xerr != nil {
		e.writeEntraJSON(w, r, xerr)
		return
	}
	p := r.PostForm
	grant := p.Get("grant_type")
	var resp map[string]any
	e.mu.Lock()
	switch grant {
	case "authorization_code":
		resp, xerr = e.redeemCode(a, p)
	case "refresh_token":
		resp, xerr = e.redeemRefresh(a, p)
	case "client_credentials":
		resp, xerr = e.clientCredentials(a, p)
	case deviceGrantURN, deviceGrantShort:
		grant = deviceGrantShort
		resp, xerr = e.redeemDevice(a, p)
	case "":
		xerr = newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	default:
		xerr = newErr(http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", grant)
	}
	if xerr == nil {
		e.stats.Tokens[grant]++
	}
	e.mu.Unlock()
	if xerr != nil {
		e.writeEntraJSON(w, r, xerr)
		return
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// formClientID is the client a token request names, in the body or in
// HTTP Basic credentials, before it is authenticated.
func formClientID(r *http.Request) string {
	if id := r.PostForm.Get("client_id"); id != "" {
		return id
	}
	if u, _, ok := r.BasicAuth(); ok {
		id, _ := url.QueryUnescape(u)
		return id
	}
	return ""
}

// clientAuth identifies the client and checks its secret. Basic
// credentials are form-encoded (RFC 6749 section 2.3.1).
func (e *Emulator) clientAuth(r *http.Request) (*app, *entraError) {
	if r.PostForm.Has("client_assertion_type") || r.PostForm.Has("client_assertion") {
		// A certificate or federated credential (see credentials.go).
		return e.assertionAuth(r, e.authority+r.URL.Path)
	}
	id, secret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	if u, pw, ok := r.BasicAuth(); ok {
		bu, err1 := url.QueryUnescape(u)
		bp, err2 := url.QueryUnescape(pw)
		if err1 != nil || err2 != nil || (id != "" && id != bu) || secret != "" {
			return nil, newErr(http.StatusBadRequest, "invalid_request", 9002313, "Invalid request. The client was identified both in the Authorization header and in the body, or the header is malformed; use one.")
		}
		id, secret = bu, bp
	}
	if id == "" {
		return nil, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
	}
	a := e.appByID(id)
	switch {
	case a == nil:
		return nil, errUnknownApp(id)
	case a.Public && secret != "":
		return nil, newErr(http.StatusUnauthorized, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
	case !a.Public && secret == "":
		return nil, newErr(http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	case !a.Public && subtle.ConstantTimeCompare([]byte(secret), []byte(a.ClientSecret)) != 1:
		return nil, newErr(http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", a.ClientID)
	}
	return a, nil
}

func errExpiredGrant() *entraError {
	return newErr(http.StatusBadRequest, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
}

func errMalformedGrant() *entraError {
	return newErr(http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
}

// redeemCode runs with e.mu held.
func (e *Emulator) redeemCode(a *app, p url.Values) (map[string]any, *entraError) {
	code := p.Get("code")
	if code == "" {
		return nil, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'code'.")
	}
	g := e.codes[code]
	now := e.nowLocked()
	switch {
	case g == nil:
		return nil, errMalformedGrant()
	case g.used:
		return nil, newErr(http.StatusBadRequest, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case !now.Before(g.expires):
		return nil, errExpiredGrant()
	case g.app != a:
		return nil, newErr(http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed. The code was issued to another client.")
	}
	// Any further failure burns the code too, so a verifier cannot be
	// guessed by retrying.
	g.used = true
	if p.Get("redirect_uri") != g.redirect {
		return nil, newErr(http.StatusBadRequest, "invalid_grant", 500112, "The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", p.Get("redirect_uri"), g.redirect)
	}
	if g.challenge != "" {
		sum := sha256.Sum256([]byte(p.Get("code_verifier")))
		if p.Get("code_verifier") == "" || b64(sum[:]) != g.challenge {
			return nil, newErr(http.StatusBadRequest, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
		e.issued = append(e.issued, p.Get("code_verifier"))
	}
	s := g.scopes
	if raw := p.Get("scope"); raw != "" {
		var xerr *entraError
		if s, xerr = e.parseScopes(raw); xerr != nil {
			return nil, xerr
		}
	}
	return e.issueUser(a, s, union(g.scopes.oidc, s.oidc), g.nonce, now), nil
}

// redeemRefresh runs with e.mu held. The refresh token is bound to the
// client and user, not to a resource: any org's scope may be asked for.
func (e *Emulator) redeemRefresh(a *app, p url.Values) (map[string]any, *entraError) {
	rt := p.Get("refresh_token")
	if rt == "" {
		return nil, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'refresh_token'.")
	}
	g := e.refresh[rt]
	now := e.nowLocked()
	switch {
	case g == nil:
		return nil, errMalformedGrant()
	case g.app != a:
		return nil, newErr(http.StatusBadRequest, "invalid_grant", 70000, "Provided grant is invalid or malformed. The refresh token was issued to a different client.")
	case g.revoked, g.spent:
		return nil, errExpiredGrant()
	case !now.Before(g.expires):
		return nil, newErr(http.StatusBadRequest, "invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was issued on %s and was inactive for %s.", g.issued.UTC().Format(time.RFC3339), e.opts.RefreshTokenLifetime)
	}
	s := g.scopes
	if raw := p.Get("scope"); raw != "" {
		var xerr *entraError
		if s, xerr = e.parseScopes(raw); xerr != nil {
			return nil, xerr
		}
		if xerr := e.refreshRefusal(g.scopes, s); xerr != nil {
			return nil, xerr
		}
	}
	g.spent = true
	return e.issueUser(a, s, union(g.oidc, s.oidc), "", now), nil
}

// clientCredentials runs with e.mu held.
func (e *Emulator) clientCredentials(a *app, p url.Values) (map[string]any, *entraError) {
	if a.Public {
		return nil, newErr(http.StatusBadRequest, "unauthorized_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'. A public client cannot use the client credentials grant.")
	}
	raw := p.Get("scope")
	// MSAL (azidentity's certificate and workload credentials) adds the
	// OIDC scopes to every request; Entra ignores them here.
	fields := slices.DeleteFunc(strings.Fields(raw), func(s string) bool {
		return s == "openid" || s == "offline_access" || s == "profile"
	})
	if len(fields) == 0 {
		return nil, newErr(http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
	}
	if len(fields) != 1 || !strings.HasSuffix(fields[0], "/.default") {
		return nil, newErr(http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", raw)
	}
	resource := strings.TrimSuffix(fields[0], "/.default")
	o := e.orgByResource(resource)
	if o == nil {
		return nil, newErr(http.StatusBadRequest, "invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, tenantDomain)
	}
	now := e.nowLocked()
	exp := now.Add(e.opts.AccessTokenLifetime)
	at := e.sign(claims{
		"aud": o.URL, "iss": e.issuer(), "iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
		"tid": e.tenantID, "oid": a.spID, "sub": a.spID, "appid": a.ClientID, "azp": a.ClientID,
		"idtyp": "app", "ver": "1.0", "uti": uuid.NewString(),
	})
	e.issued = append(e.issued, at)
	return e.tokenResponse(at, o.URL+"/.default", now, exp), nil
}

// issueUser makes the test user's tokens. It runs with e.mu held.
func (e *Emulator) issueUser(a *app, s scopes, oidc []string, nonce string, now time.Time) map[string]any {
	exp := now.Add(e.opts.AccessTokenLifetime)
	at := e.sign(claims{
		"aud": s.org.URL, "iss": e.issuer(), "iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix(),
		"tid": e.tenantID, "oid": e.user.oid, "sub": e.user.oid, "upn": e.user.upn, "unique_name": e.user.upn,
		"name": e.user.name, "appid": a.ClientID, "azp": a.ClientID, "scp": s.delegatedPerms(),
		"idtyp": "user", "ver": "1.0", "uti": uuid.NewString(),
	})
	e.issued = append(e.issued, at)
	resp := e.tokenResponse(at, s.delegated(), now, exp)
	if slices.Contains(oidc, "offline_access") {
		rt := randomToken("1.EMU.")
		e.refresh[rt] = &refreshGrant{app: a, oidc: oidc, scopes: s, issued: now, expires: now.Add(e.opts.RefreshTokenLifetime)}
		resp["refresh_token"] = rt
	}
	if slices.Contains(oidc, "openid") {
		id := claims{
			"aud": a.ClientID, "iss": e.authority + "/" + e.tenantID + "/v2.0", "iat": now.Unix(), "nbf": now.Unix(),
			"exp": now.Add(time.Hour).Unix(), "tid": e.tenantID, "oid": e.user.oid, "sub": e.user.oid,
			"preferred_username": e.user.upn, "name": e.user.name, "ver": "2.0",
		}
		if nonce != "" {
			id["nonce"] = nonce
		}
		resp["id_token"] = e.sign(id)
		e.issued = append(e.issued, resp["id_token"].(string))
		info, _ := json.Marshal(map[string]string{"uid": e.user.oid, "utid": e.tenantID})
		resp["client_info"] = base64.RawURLEncoding.EncodeToString(info)
	}
	return resp
}

// issuer is the iss of access tokens. Dynamics receives v1 tokens, whose
// issuer is the tenant's STS address.
func (e *Emulator) issuer() string { return e.authority + "/" + e.tenantID + "/" }

func (e *Emulator) tokenResponse(at, scope string, now, exp time.Time) map[string]any {
	secs := int(exp.Sub(now) / time.Second)
	return map[string]any{
		"token_type":     "Bearer",
		"scope":          scope,
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   at,
	}
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// entraPost does what every Entra POST endpoint does first, in Entra's
// order: refuse other methods, check the tenant, parse the form, then play
// any scripted fault for the endpoint (its client and grant read from the
// form). It reports whether the handler should go on.
func (e *Emulator) entraPost(w http.ResponseWriter, r *http.Request, endpoint string) (multi, ok bool) {
	if r.Method != http.MethodPost {
		e.writeEntraJSON(w, r, newErr(http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
		return false, false
	}
	multi, xerr := e.tenantCheck(r.PathValue("tenant"))
	if xerr != nil {
		e.writeEntraJSON(w, r, xerr)
		return false, false
	}
	if err := r.ParseForm(); err != nil {
		e.writeEntraJSON(w, r, newErr(http.StatusBadRequest, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid."))
		return false, false
	}
	if e.fault(w, r, endpoint, formClientID(r), r.PostForm.Get("grant_type")) {
		return false, false
	}
	return multi, true
}
