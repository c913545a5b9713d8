package emulator

import (
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// webAPIPath is where an org's Web API lives, below the org root.
const webAPIPath = "/api/data/v9.2/"

// webAPICall is an authenticated Web API request.
type webAPICall struct {
	org *org
	// path is the request path below /api/data/v9.2/, such as
	// "EntityDefinitions(LogicalName='account')".
	path string
	// userID is the caller's systemuserid in the org: the user's, or the
	// app's application user's.
	userID  uuid.UUID
	appOnly bool
	app     *app
}

// webAPIHandler serves one Web API resource. The caller is already
// authenticated and known in the org.
type webAPIHandler func(e *Emulator, w http.ResponseWriter, r *http.Request, c *webAPICall)

// webAPIRoutes maps the first segment of a Web API path (up to any "(" or
// "/") to its handler. More routes (EntityDefinitions, entity sets) are
// added from their own files in an init function; the map is read-only
// once the package is initialised.
var webAPIRoutes = map[string]webAPIHandler{
	"WhoAmI": whoAmI,
}

func (e *Emulator) orgHandler(o *org) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, webAPIPath)
		if !ok {
			writeOData(w, http.StatusNotFound, "0x8006088a", "Resource not found for the segment '"+strings.Trim(r.URL.Path, "/")+"'.")
			return
		}
		if e.fault(w, r, "webapi/"+strings.ToLower(routeOf(rest)), "", "") {
			return
		}
		// Dynamics authenticates before it routes: a bad token on an
		// unknown path is a 401, not a 404.
		c, ok := e.authenticate(w, r, o)
		if !ok {
			return
		}
		c.path = rest
		seg := routeOf(rest)
		h := webAPIRoutes[seg]
		if h == nil {
			writeOData(w, http.StatusNotFound, "0x8006088a", "Resource not found for the segment '"+seg+"'.")
			return
		}
		h(e, w, r, c)
	})
}

// routeOf is the first segment of a Web API path, up to any "(" or "/".
func routeOf(path string) string {
	if i := strings.IndexAny(path, "(/"); i >= 0 {
		return path[:i]
	}
	return path
}

// authenticate checks the bearer token as Dynamics does: signed by this
// tenant, issued for this org, not expired, and for a caller who is a user
// of the org. It answers the request itself when it fails.
func (e *Emulator) authenticate(w http.ResponseWriter, r *http.Request, o *org) (*webAPICall, bool) {
	unauthorized := func(msg string) (*webAPICall, bool) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", authorization_uri="`+e.authority+"/"+e.tenantID+`/oauth2/authorize", resource_id="`+o.URL+`/"`)
		writeOData(w, http.StatusUnauthorized, "0x80072243", msg)
		return nil, false
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return unauthorized("The request has no bearer token. Send an access token for " + o.URL + " in the Authorization header.")
	}
	c, err := e.verify(token)
	if err != nil || c.str("tid") != e.tenantID {
		return unauthorized("The access token is not valid: it was not issued by this tenant or it is malformed.")
	}
	now := e.Now()
	if !now.Before(time.Unix(c.unix("exp"), 0)) {
		return unauthorized("The access token has expired. Refresh it or sign in again.")
	}
	if now.Before(time.Unix(c.unix("nbf"), 0)) {
		return unauthorized("The access token is not valid yet.")
	}
	if aud := c.str("aud"); !strings.EqualFold(strings.TrimSuffix(aud, "/"), o.URL) {
		return unauthorized("The access token was issued for " + aud + ", not for this organization (" + o.URL + "). Request a token with the scope " + o.URL + "/user_impersonation.")
	}
	call := &webAPICall{org: o, app: e.appByID(c.str("appid"))}
	if call.app == nil {
		return unauthorized("The access token names an application that is not registered in this tenant.")
	}
	if c.str("idtyp") == "app" {
		call.appOnly = true
		if !call.app.AppUser {
			writeOData(w, http.StatusForbidden, "0x80072560", "The user is not a member of the organization.")
			return nil, false
		}
		call.userID = uuid.NewSHA1(o.orgID, []byte("app:"+call.app.ClientID))
		return call, true
	}
	if c.str("oid") != e.user.oid {
		writeOData(w, http.StatusForbidden, "0x80072560", "The user is not a member of the organization.")
		return nil, false
	}
	call.userID = uuid.NewSHA1(o.orgID, []byte("user:"+e.user.oid))
	return call, true
}

// methodAllowed answers 405 when r is not one of the methods.
func methodAllowed(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeOData(w, http.StatusMethodNotAllowed, "0x80060888", "The requested resource does not support http method '"+r.Method+"'.")
	return false
}

func whoAmI(e *Emulator, w http.ResponseWriter, r *http.Request, c *webAPICall) {
	if !methodAllowed(w, r, http.MethodGet) {
		return
	}
	if c.path != "WhoAmI" && c.path != "WhoAmI()" {
		writeOData(w, http.StatusNotFound, "0x8006088a", "Resource not found for the segment '"+c.path+"'.")
		return
	}
	e.mu.Lock()
	e.stats.WhoAmI++
	e.mu.Unlock()
	w.Header().Set("OData-Version", "4.0")
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": c.org.URL + webAPIPath + "$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
		"BusinessUnitId": c.org.businessUnitID.String(),
		"UserId":         c.userID.String(),
		"OrganizationId": c.org.orgID.String(),
	})
}
