package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"connform/internal/redact"
	"connform/internal/safetext"
)

// Error is an answer of the authorization server that refused a request:
// an error response of the token endpoint, or an error= redirect to the
// sign-in callback. It carries only what Entra says about the failure; Entra's
// descriptions hold no secret, and nothing of the request is kept.
type Error struct {
	StatusCode    int    // HTTP status of the token endpoint; 0 for a callback error
	Code          string // OAuth error, e.g. "invalid_grant"
	Codes         []int  // Entra's AADSTS numbers, from error_codes or the description
	Description   string // error_description, first line only
	CorrelationID string
	TraceID       string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Code != "":
		b.WriteString(e.Code)
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "token endpoint answered HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	default:
		b.WriteString("sign-in failed")
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " (correlation id %s)", e.CorrelationID)
	}
	return b.String()
}

// Has reports whether Entra gave code among the error's AADSTS numbers.
func (e *Error) Has(code int) bool { return slices.Contains(e.Codes, code) }

func (e *Error) hasAny(codes ...int) bool {
	for _, c := range codes {
		if e.Has(c) {
			return true
		}
	}
	return false
}

// SignInAgain reports whether the grant (refresh token or code) is dead: the
// caller should drop the stored refresh token and sign in interactively.
// Errors that only need an interactive step-up (InteractionRequired) or a fix
// of the configuration (ConfigError) are excluded, so that the caller can
// tell the user the precise reason.
func (e *Error) SignInAgain() bool {
	if e.hasAny(70008, 700082, 70043, 50173, 54005, 501481) {
		return true
	}
	return e.Code == "invalid_grant" && !e.InteractionRequired() && !e.ConfigError()
}

// InteractionRequired reports whether the user must act in a browser (consent,
// MFA, conditional access); silent means cannot succeed.
func (e *Error) InteractionRequired() bool {
	return e.hasAny(65001, 50076, 50079, 53003) ||
		e.Code == "interaction_required" || e.Code == "consent_required"
}

// configCodes are the errors that retrying or signing in again cannot fix,
// with the advice that names what to change.
var configCodes = map[int]string{
	50011:   "the redirect does not match a redirect URI of the app registration: register http://localhost (the port is ignored) or fix `redirect`",
	700016:  "the client_id is not an app in this tenant: check `client_id` and `tenant_id`, and the cloud of `url`",
	7000215: "the client secret is wrong: set `client_secret` to the secret's value, not its secret id",
	7000222: "the client secret has expired: create a new one and update `client_secret`",
	700025:  "the app is a public client, which must not send a secret: remove `client_secret`",
	70011:   "a scope is invalid: check `scopes` (all scopes of one request must belong to one resource)",
	90002:   "the tenant was not found: check `tenant_id` and that the authority matches the cloud of `url`",
	50194:   "the app is single-tenant and cannot use common: set `tenant_id` to the tenant id",
	1002012: "client credentials need exactly the scope <org>/.default: fix `scopes`",
}

// appCodes are the configuration errors of the app registration, tenant or
// redirect: every connection of the account shares them, unlike a bad
// scope or an unknown resource, which belong to one connection.
var appCodes = []int{50011, 700016, 7000215, 7000222, 700025, 90002, 50194}

// AppMisconfigured reports whether err is a failure every connection of the
// same app and account would meet too (a wrong secret, an unknown app or
// tenant, a redirect mismatch), so that signing in again for another org of
// the account would end the same way.
func AppMisconfigured(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.hasAny(appCodes...)
}

// ConfigError reports whether the failure comes from the connection's
// configuration or app registration; Hint says what to fix.
func (e *Error) ConfigError() bool {
	for _, c := range e.Codes {
		if _, ok := configCodes[c]; ok {
			return true
		}
	}
	return false
}

// Transient reports whether the same request may succeed later.
func (e *Error) Transient() bool {
	return e.Code == "temporarily_unavailable" || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// Hint says what the user can do about the error, or "" when there is
// nothing more specific than the error itself.
func (e *Error) Hint() string {
	for _, c := range e.Codes {
		if h, ok := configCodes[c]; ok {
			return h
		}
	}
	switch {
	case e.InteractionRequired():
		if e.Has(65001) {
			return "sign in interactively and grant the app its permissions (consent)"
		}
		return "sign in interactively (multi-factor authentication or a conditional access policy needs it)"
	case e.SignInAgain():
		return "the sign-in has expired or was revoked: sign in again"
	case e.Transient():
		return "the sign-in service is unavailable: try again later"
	}
	return ""
}

var aadsts = regexp.MustCompile(`AADSTS(\d+)`)

// entraError is the JSON body of an Entra token endpoint error.
type entraError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	CorrelationID    string `json:"correlation_id"`
	TraceID          string `json:"trace_id"`
}

// newError builds an Error from the fields Entra sends, in a body or a
// redirect.
func newError(status int, code, description string, codes []int, correlation, trace string) *Error {
	description = strings.TrimSpace(description)
	if i := strings.IndexAny(description, "\r\n"); i >= 0 {
		description = strings.TrimSpace(description[:i])
	}
	// Everything here came from outside: what prints it must not be able to
	// drive the terminal, however the peer wrote it.
	code = safetext.Line(code, safetext.FieldMax)
	description = safetext.Line(description, safetext.MessageMax)
	correlation = safetext.Line(correlation, safetext.FieldMax)
	trace = safetext.Line(trace, safetext.FieldMax)
	if len(codes) == 0 {
		for _, m := range aadsts.FindAllStringSubmatch(description, -1) {
			if n, err := strconv.Atoi(m[1]); err == nil {
				codes = append(codes, n)
			}
		}
	}
	return &Error{
		StatusCode:    status,
		Code:          code,
		Codes:         codes,
		Description:   description,
		CorrelationID: correlation,
		TraceID:       trace,
	}
}

// tokenError turns what x/oauth2 returns for a failed token request into an
// *Error when the server answered. Other errors (network, bad JSON) are
// returned as they are: they hold no request parameter, since the token
// request is a POST and its URL carries no secret.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return err
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	var body entraError
	if json.Unmarshal(re.Body, &body) != nil {
		// A non-JSON body (a proxy's page, a 503 from a gateway) is not shown:
		// it is not Entra's and could echo anything.
		body = entraError{}
	}
	code, desc := body.Error, body.ErrorDescription
	if code == "" {
		code, desc = re.ErrorCode, re.ErrorDescription
	}
	// The body was scrubbed on its way in (Flow.client); scrubbing the
	// fields again here keeps the secrets out even of an answer that came
	// through a client without that transport.
	var secrets *redact.Set
	if re.Response != nil {
		secrets = redact.FromRequest(re.Response.Request)
	}
	return newError(status, secrets.String(code), secrets.String(desc), body.ErrorCodes, secrets.String(body.CorrelationID), secrets.String(body.TraceID))
}
