package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FaultKind is a failure the emulator can be told to answer with.
type FaultKind string

// Fault kinds. The silent-grant kinds (ExpiredRefreshToken, Revoked,
// ConsentRequired, MFARequired, InvalidScope) fire only on refresh_token requests, the only silent
// requests Entra refuses that way; the others fire on any matching request.
const (
	FaultExpiredRefreshToken FaultKind = "expired_refresh_token" // invalid_grant AADSTS700082
	FaultRevoked             FaultKind = "revoked"               // invalid_grant AADSTS70008
	FaultConsentRequired     FaultKind = "consent_required"      // interaction_required AADSTS65001
	FaultMFARequired         FaultKind = "mfa_required"          // interaction_required AADSTS50076
	FaultInvalidScope        FaultKind = "invalid_scope"         // invalid_scope AADSTS70011: the refresh cannot serve the scope
	FaultBadSecret           FaultKind = "bad_secret"            // invalid_client AADSTS7000215
	FaultExpiredSecret       FaultKind = "expired_secret"        // invalid_client AADSTS7000222
	FaultRedirectMismatch    FaultKind = "redirect_mismatch"     // AADSTS50011
	FaultLatency             FaultKind = "latency"               // waits Delay, then answers normally
	FaultTooManyRequests     FaultKind = "429"                   // with Retry-After
	FaultServerError         FaultKind = "500"
	FaultUnavailable         FaultKind = "503" // with Retry-After
	// FaultTemporarilyUnavailable is the OAuth error temporarily_unavailable
	// in an HTTP 400 body, so clients must read the body, not the status.
	FaultTemporarilyUnavailable FaultKind = "temporarily_unavailable"
	// Hostile peers (see hostile.go): answers that echo the request, as
	// some gateways and misconfigured servers do, and an answer that tries
	// to drive the terminal.
	FaultEchoJSON FaultKind = "echo_json" // 400 JSON, no AADSTS code, description echoes the form
	FaultEchoForm FaultKind = "echo_form" // 400 text/plain, form-encoded, echoes the form
	FaultEcho200  FaultKind = "echo_200"  // 200 JSON carrying error, echoes the form
	FaultEscapes  FaultKind = "escapes"   // error text with ESC[2J and a fake "Apply complete!"
)

// FaultKinds lists every kind, for commands that parse them.
var FaultKinds = []FaultKind{
	FaultExpiredRefreshToken, FaultRevoked, FaultConsentRequired, FaultMFARequired, FaultInvalidScope, FaultBadSecret,
	FaultExpiredSecret, FaultRedirectMismatch, FaultLatency, FaultTooManyRequests,
	FaultServerError, FaultUnavailable, FaultTemporarilyUnavailable,
	FaultEchoJSON, FaultEchoForm, FaultEcho200, FaultEscapes,
}

// Fault scripts a failure: the next Count matching requests (every one when
// Count is 0) get Kind instead of their normal answer.
type Fault struct {
	// Endpoint is "token", "authorize", "devicecode", "webapi" (any org
	// request) or a Web API route such as "webapi/whoami" or "whoami"; ""
	// matches all. ParseFault takes only those of FaultEndpoints.
	Endpoint string
	// ClientID limits the fault to one app; "" matches all. Web API
	// requests carry no client id and match only faults without one.
	ClientID string
	Count    int
	Kind     FaultKind
	// Delay is how long FaultLatency waits, and the Retry-After of 429 and
	// 503 (rounded up to whole seconds; 0 sends "0").
	Delay time.Duration
}

// ParseFault reads a fault as the command line gives it:
// ENDPOINT:KIND[,count=N][,client=ID][,delay=D], e.g. "token:revoked,count=1"
// or "webapi/whoami:503". ENDPOINT "any" matches every endpoint.
func ParseFault(s string) (Fault, error) {
	head, opts, _ := strings.Cut(s, ",")
	endpoint, kind, ok := strings.Cut(head, ":")
	if !ok || endpoint == "" || kind == "" {
		return Fault{}, fmt.Errorf("fault %q: write ENDPOINT:KIND[,count=N][,client=ID][,delay=D], e.g. token:revoked,count=1", s)
	}
	f := Fault{Endpoint: endpoint, Kind: FaultKind(kind)}
	if !knownFaultEndpoint(endpoint) {
		// A fault on an endpoint nothing asks for would never fire, and a
		// test built on it would pass without testing anything.
		return Fault{}, fmt.Errorf("fault %q: unknown endpoint %q; known: %s (a Web API route may be given without webapi/)", s, endpoint, strings.Join(FaultEndpoints(), ", "))
	}
	if strings.EqualFold(f.Endpoint, "any") {
		f.Endpoint = ""
	}
	if !slices.Contains(FaultKinds, f.Kind) {
		return Fault{}, fmt.Errorf("fault %q: unknown kind %q; known: %v", s, kind, FaultKinds)
	}
	if opts == "" {
		return f, nil
	}
	for _, opt := range strings.Split(opts, ",") {
		k, v, _ := strings.Cut(opt, "=")
		var err error
		switch k {
		case "count":
			f.Count, err = strconv.Atoi(v)
		case "client":
			f.ClientID = v
		case "delay":
			f.Delay, err = time.ParseDuration(v)
		default:
			err = errors.New("unknown option; use count=N, client=ID or delay=D")
		}
		if err != nil {
			return Fault{}, fmt.Errorf("fault %q: %s: %v", s, opt, err)
		}
	}
	return f, nil
}

// FaultEndpoints lists the endpoints a fault can name, as ParseFault takes
// them: "any", the Entra endpoints, "webapi" (every Web API request) and
// "webapi/ROUTE" for each route the Web API serves, in lower case.
func FaultEndpoints() []string {
	eps := []string{"any", "token", "authorize", "devicecode", "webapi"}
	var routes []string
	for r := range webAPIRoutes {
		routes = append(routes, "webapi/"+strings.ToLower(r))
	}
	slices.Sort(routes)
	return append(eps, routes...)
}

// knownFaultEndpoint reports whether a fault on endpoint can match a
// request (see faultRule.matches), in any case and with a Web API route
// with or without its "webapi/".
func knownFaultEndpoint(endpoint string) bool {
	endpoint = strings.ToLower(endpoint)
	for _, ep := range FaultEndpoints() {
		if endpoint == ep || "webapi/"+endpoint == ep {
			return true
		}
	}
	return false
}

type faultRule struct {
	Fault
	left int // requests still to fail; unused when Count is 0
}

// AddFault scripts a failure. Faults are checked in the order added; the
// first that matches a request answers it.
func (e *Emulator) AddFault(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &faultRule{Fault: f, left: f.Count})
}

// ClearFaults removes every scripted failure.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// takeFault finds and consumes the first fault matching a request.
func (e *Emulator) takeFault(endpoint, clientID, grant string) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if !f.matches(endpoint, clientID, grant) {
			continue
		}
		got := f.Fault
		if f.Count > 0 {
			f.left--
			if f.left <= 0 {
				e.faults = append(e.faults[:i:i], e.faults[i+1:]...)
			}
		}
		return &got
	}
	return nil
}

func (f *faultRule) matches(endpoint, clientID, grant string) bool {
	switch {
	case f.Endpoint != "" && !strings.EqualFold(f.Endpoint, endpoint) &&
		!(strings.EqualFold(f.Endpoint, "webapi") && strings.HasPrefix(endpoint, "webapi/")) &&
		!strings.EqualFold("webapi/"+f.Endpoint, endpoint):
		return false
	case f.ClientID != "" && !strings.EqualFold(f.ClientID, clientID):
		return false
	}
	switch f.Kind {
	case FaultExpiredRefreshToken, FaultRevoked, FaultConsentRequired, FaultMFARequired, FaultInvalidScope:
		return grant == "refresh_token"
	}
	return true
}

// fault answers r with a scripted failure when one matches, and reports
// whether it did. endpoint is "token", "authorize", "devicecode" or
// "webapi/<route>"; grant is the token request's grant_type. Latency waits
// and then lets the request proceed.
func (e *Emulator) fault(w http.ResponseWriter, r *http.Request, endpoint, clientID, grant string) bool {
	f := e.takeFault(endpoint, clientID, grant)
	if f == nil {
		return false
	}
	if f.Kind == FaultLatency {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		return false
	}
	if e.hostile(w, r, f.Kind, endpoint) {
		return true
	}
	x := f.entraError(clientID)
	if f.Kind == FaultTooManyRequests || f.Kind == FaultUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.Delay+time.Second-1)/time.Second)))
	}
	switch {
	case strings.HasPrefix(endpoint, "webapi"):
		if x.Status < 500 && x.Status != http.StatusTooManyRequests {
			x.Status = http.StatusUnauthorized
		}
		writeOData(w, x.Status, "0x80072321", "Scripted fault: "+x.Message)
	case endpoint == "authorize":
		e.errorPage(w, r, x)
	default:
		e.writeEntraJSON(w, r, x)
	}
	return true
}

func (f *Fault) entraError(clientID string) *entraError {
	switch f.Kind {
	case FaultExpiredRefreshToken:
		return newErr(http.StatusBadRequest, "invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was inactive for 90.00:00:00.")
	case FaultRevoked:
		return errExpiredGrant()
	case FaultConsentRequired:
		return newErr(http.StatusBadRequest, "interaction_required", 65001, "The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource.", clientID)
	case FaultMFARequired:
		return newErr(http.StatusBadRequest, "interaction_required", 50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.", clientID)
	case FaultInvalidScope:
		return newErr(http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid: the refresh token cannot be used for it.")
	case FaultBadSecret:
		return newErr(http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID)
	case FaultExpiredSecret:
		return newErr(http.StatusUnauthorized, "invalid_client", 7000222, "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app.", clientID)
	case FaultRedirectMismatch:
		return newErr(http.StatusBadRequest, "invalid_request", 50011, "The redirect URI specified in the request does not match the redirect URIs configured for the application '%s'.", clientID)
	case FaultTooManyRequests:
		return newErr(http.StatusTooManyRequests, "temporarily_unavailable", 90033, "Too many requests. Retry after the time given in Retry-After.")
	case FaultServerError:
		return newErr(http.StatusInternalServerError, "server_error", 90033, "A transient error has occurred. Please try again.")
	case FaultUnavailable:
		return newErr(http.StatusServiceUnavailable, "temporarily_unavailable", 90033, "The service is temporarily unavailable. Retry after the time given in Retry-After.")
	case FaultTemporarilyUnavailable:
		return newErr(http.StatusBadRequest, "temporarily_unavailable", 90033, "The service is temporarily unavailable. Please try again.")
	}
	return newErr(http.StatusInternalServerError, "server_error", 90033, "Unknown scripted fault %q.", string(f.Kind))
}
