package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// explanation is what a user reads about one Entra error: what happened in
// plain words, and what to change (the connform attribute or the portal
// setting) or do.
type explanation struct {
	what, fix string
}

// explanations covers every AADSTS code of REFERENCE.md's table, and the
// device flow's endings. Codes not listed fall back to the error itself
// and Hint.
var explanations = map[int]explanation{
	// Sign in again: the stored grant is dead.
	70008:  {"the stored sign-in has expired or was revoked", "connform dropped it: sign in again with connform apply in a terminal, or connform login."},
	700082: {"the stored sign-in expired after 90 days without use", "connform dropped it: sign in again with connform apply in a terminal, or connform login; a scheduled apply keeps it alive."},
	70043:  {"a Conditional Access sign-in frequency policy ended the stored sign-in", "connform dropped it: sign in again with connform apply in a terminal, or connform login."},
	50173:  {"the sign-in was revoked (a password change, or an administrator revoked the sessions)", "connform dropped it: sign in again with connform apply in a terminal, or connform login."},
	54005:  {"the sign-in response was already used", "run again to sign in afresh; a sign-in page must not be reloaded or reused."},
	501481: {"the sign-in response did not match this request (PKCE verifier mismatch)", "run again to sign in afresh; if it repeats, a proxy may be altering the sign-in."},
	// Interaction needed.
	65001: {"the app has not been granted access to Dynamics for this user (consent is missing)", "sign in interactively and accept the consent prompt, or have an administrator grant admin consent under API permissions (Dynamics CRM, user_impersonation) in the app registration."},
	50076: {"the tenant requires multi-factor authentication for this sign-in", "sign in interactively (connform apply in a terminal, or connform login) and complete the second factor."},
	50079: {"the user must register for multi-factor authentication", "sign in interactively (connform apply in a terminal, or connform login) and complete the registration."},
	53003: {"a Conditional Access policy blocked the sign-in", "sign in from a device and network the policy allows, or ask an administrator to look the correlation id up in the Entra sign-in logs."},
	// Configuration errors.
	50011:   {"the redirect URI does not match any redirect URI of the app registration", "register http://localhost under Authentication > Mobile and desktop applications (the port is ignored), or set redirect to a registered loopback URI."},
	700016:  {"the app (client_id) was not found in this tenant", "check client_id and tenant_id, and that the app is registered in the cloud the url belongs to."},
	7000215: {"the client secret was rejected", "did you paste the secret's ID instead of its value? Set client_secret to the Value column under Certificates & secrets in the app registration."},
	7000222: {"the client secret has expired", "create a new secret under Certificates & secrets in the app registration and set client_secret to its value."},
	700025:  {"the app is a public client, which must not send a secret", "remove client_secret, or use an app registration with a client secret (a confidential client)."},
	70011:   {"a requested scope is not valid", "check scopes: every scope of one request must belong to one resource, such as {org}/user_impersonation and offline_access; remove scopes to use the defaults."},
	90002:   {"the tenant was not found", "check tenant_id, and that the sign-in endpoints belong to the same cloud as the org url (set cloud when it cannot be derived)."},
	50194:   {"the app is single-tenant and cannot sign in through the common endpoint", "set tenant_id to your directory's tenant id instead of common."},
	1002012: {"client credentials need exactly one scope, {org}/.default", "remove scopes to use the default, or set scopes = [\"{org}/.default\"]."},
	// Device code flow.
	70020: {"the device code expired before anyone entered it", "run again and enter the new code within the time shown."},
}

// transientExplanation is for 429, 5xx and temporarily_unavailable.
var transientExplanation = explanation{
	"the sign-in service is temporarily unavailable",
	"connform retried with backoff and gave up; run again later. Nothing in the configuration needs to change.",
}

// Explain turns a failed sign-in into a message a person can act on: the
// connection's address, what happened in plain words, the raw code (for
// support), what to fix or do, and Entra's correlation id. err may wrap an
// *Error; other errors are shown as they are after the address.
func Explain(addr string, err error) string {
	return addr + ": " + Describe(err)
}

// Describe is Explain without the address, for messages that name the
// connection themselves.
func Describe(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	x, ok := e.explanation()
	if !ok {
		msg := e.Error()
		if h := e.Hint(); h != "" {
			msg += ". " + strings.ToUpper(h[:1]) + h[1:] + "."
		}
		return msg
	}
	var b strings.Builder
	b.WriteString(x.what)
	b.WriteString(" (")
	b.WriteString(e.rawCode())
	b.WriteString("); ")
	b.WriteString(x.fix)
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " Correlation id: %s.", e.CorrelationID)
	}
	return b.String()
}

// Reason is the short form, for a clause such as "needs an interactive
// sign-in (REASON)": what happened, the raw code and the correlation id.
func Reason(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	x, ok := e.explanation()
	if !ok {
		return e.Error()
	}
	r := x.what + " (" + e.rawCode()
	if e.CorrelationID != "" {
		r += ", correlation id " + e.CorrelationID
	}
	return r + ")"
}

func (e *Error) explanation() (explanation, bool) {
	for _, c := range e.Codes {
		if x, ok := explanations[c]; ok {
			return x, true
		}
	}
	if e.Transient() {
		return transientExplanation, true
	}
	return explanation{}, false
}

// rawCode names the error as Entra did: "AADSTS7000215", plus the HTTP
// status for a transient failure, or the OAuth error when Entra gave no
// number.
func (e *Error) rawCode() string {
	var parts []string
	for _, c := range e.Codes {
		parts = append(parts, "AADSTS"+strconv.Itoa(c))
	}
	if len(parts) == 0 && e.Code != "" {
		parts = append(parts, e.Code)
	}
	if e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 {
		parts = append(parts, "HTTP "+strconv.Itoa(e.StatusCode)+" "+http.StatusText(e.StatusCode))
	}
	return strings.Join(parts, ", ")
}
