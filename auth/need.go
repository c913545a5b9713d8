package auth

import (
	"slices"
	"strings"
	"time"
)

// NeedKind is what getting a token for a connection takes.
type NeedKind int

// Needs, from nothing to a person. Only NeedInteractive needs one.
const (
	// NeedNothing: the stored access token serves.
	NeedNothing NeedKind = iota
	// NeedRefresh: the account's refresh token gets one silently.
	NeedRefresh
	// NeedClientSecret: the app signs in with its secret (client
	// credentials).
	NeedClientSecret
	// NeedInteractive: a person signs in (Need.Way says how).
	NeedInteractive
	// NeedCredential: an Entra-native credential (Azure CLI, managed or
	// workload identity, certificate) gives one silently.
	NeedCredential
)

var needNames = [...]string{"nothing", "refresh", "client_secret", "interactive", "credential"}

func (k NeedKind) String() string { return needNames[k] }

// Silent reports whether the need is met without a person.
func (k NeedKind) Silent() bool { return k != NeedInteractive }

// Way is how an interactive sign-in happens.
type Way string

// Ways of signing in.
const (
	WayBrowser    Way = "browser"
	WayDeviceCode Way = "device_code"
)

// ReasonCode is the stable code of an auth decision. Plans (-json) and `auth
// status` carry it beside the text, which Text derives from it; scripts
// and programs read the code, people the text.
type ReasonCode string

// Reason codes. They are part of connform's output format: add codes,
// never change one.
const (
	// ReasonValid: the stored access token is valid (Need.Until).
	ReasonValid ReasonCode = "token_valid"
	// ReasonNoToken: the store holds nothing for the account.
	ReasonNoToken ReasonCode = "no_token"
	// ReasonNoTokenForOrg: the account's refresh token gets this org's
	// first token.
	ReasonNoTokenForOrg ReasonCode = "no_token_for_org"
	// ReasonExpired: the access token expired; a silent way renews it.
	ReasonExpired ReasonCode = "expired"
	// ReasonNoRefreshToken: expired (or never had for this org) and no
	// refresh token is held: offline_access was not granted.
	ReasonNoRefreshToken ReasonCode = "no_refresh_token"
	// ReasonRefreshFailed: the refresh token was refused (Need.Detail says
	// how, Need.At when) and dropped.
	ReasonRefreshFailed ReasonCode = "refresh_failed"
	// ReasonScopesNotGranted: the provider granted fewer scopes than the
	// connection asks for (Need.Scopes lists the missing ones).
	ReasonScopesNotGranted ReasonCode = "scopes_not_granted"
	// ReasonScopesChanged: the stored token was had for other scopes than
	// the connection asks for now.
	ReasonScopesChanged ReasonCode = "scopes_changed"
	// ReasonRefreshNotShared: this account's refresh tokens serve one org
	// each (a standard OpenID provider, unlike Entra), so this org signs
	// in on its own.
	ReasonRefreshNotShared ReasonCode = "refresh_not_shared"
	// ReasonIdentityChanged: an attribute naming the org, app or authority
	// changed (Need.Attrs), so the stored token is for something else.
	ReasonIdentityChanged ReasonCode = "identity_changed"
	// ReasonCredentialChanged: the app's credential changed (Need.Attrs);
	// only a new token proves the new one.
	ReasonCredentialChanged ReasonCode = "credential_changed"
	// ReasonAccountChanged: login_hint changed: another account signs in.
	ReasonAccountChanged ReasonCode = "account_changed"
	// ReasonCovered: another connection's interactive sign-in (Need.By)
	// brings this one's token.
	ReasonCovered ReasonCode = "covered"
	// ReasonUnknownMethod: the configuration names no known method.
	ReasonUnknownMethod ReasonCode = "unknown_method"
)

// reasonCodes are every code, for readers of saved plans.
var reasonCodes = []ReasonCode{
	ReasonValid, ReasonNoToken, ReasonNoTokenForOrg, ReasonExpired, ReasonNoRefreshToken,
	ReasonRefreshFailed, ReasonScopesNotGranted, ReasonScopesChanged, ReasonRefreshNotShared,
	ReasonIdentityChanged, ReasonCredentialChanged, ReasonAccountChanged, ReasonCovered, ReasonUnknownMethod,
}

// KnownReason reports whether code is one of auth's reason codes.
func KnownReason(code ReasonCode) bool { return slices.Contains(reasonCodes, code) }

// Need is the one answer to "what does getting this connection's token
// take now": plan predicts with it, apply carries it out, `auth status`
// and `token -input=false` show it.
type Need struct {
	Kind NeedKind
	// Way is how an interactive sign-in happens; "" otherwise.
	Way  Way
	Code ReasonCode
	// Fresh makes the token source get a new token although a cached one
	// is valid: the credential changed and only a new token proves it.
	Fresh bool
	// Parameters of the text; which ones are set depends on Code.
	Until  time.Time // token_valid: the access token's expiry
	Scopes []string  // scopes_not_granted: the scopes asked for and not granted
	Attrs  []string  // identity_changed, credential_changed: the attributes
	By     string    // covered: the address whose sign-in brings the token
	Detail string    // refresh_failed: the provider's answer, in words
	At     string    // refresh_failed, refresh_not_shared: when it was learnt
	Method string    // for credentials and client secrets: the method's name

	// consent: the provider wants consent for the scopes (AADSTS65001),
	// so the sign-in asks for it.
	consent bool
}

// Text is the reason in words, derived from the code and its parameters:
// the one place connform words an auth decision.
func (n Need) Text() string {
	switch n.Code {
	case ReasonValid:
		return "token valid until " + n.Until.UTC().Format("2006-01-02 15:04 MST")
	case ReasonCovered:
		return "covered by the sign-in for " + n.By
	case ReasonCredentialChanged:
		if n.Kind == NeedRefresh {
			return strings.Join(n.Attrs, ", ") + " changed; a refresh with it proves it"
		}
		return strings.Join(n.Attrs, ", ") + " changed; a new token proves it"
	case ReasonUnknownMethod:
		return "unknown authentication method " + n.Method
	}
	why := string(n.Code)
	switch n.Code {
	case ReasonRefreshFailed:
		switch {
		case n.Detail != "":
			why = "the refresh token was refused: " + n.Detail
		case n.At != "":
			why = "the account's refresh token was refused at " + n.At
		default:
			why = "the refresh token was refused"
		}
	case ReasonScopesNotGranted:
		why = "the provider granted fewer scopes than requested: " + strings.Join(n.Scopes, ", ") + " not granted"
	case ReasonIdentityChanged:
		why = "identity changed"
		if len(n.Attrs) > 0 {
			why += " (" + strings.Join(n.Attrs, ", ") + ")"
		}
	default:
		if w, ok := reasonWords[n.Code]; ok {
			why = w.why
			if n.Kind == NeedRefresh && w.refresh != "" {
				return why + "; " + w.refresh
			}
		}
	}
	switch n.Kind {
	case NeedClientSecret:
		return why + "; the app signs in with its secret"
	case NeedCredential:
		return why + "; " + credentialSource(n.Method)
	}
	return why
}

// reasonWords are the words of the codes without parameters, and what
// follows them when a refresh meets the need.
var reasonWords = map[ReasonCode]struct{ why, refresh string }{
	ReasonNoToken:          {"no token", ""},
	ReasonNoTokenForOrg:    {"no token for this org yet", "the account's refresh token covers it"},
	ReasonExpired:          {"token expired", "refreshing silently"},
	ReasonNoRefreshToken:   {"token expired and there is no refresh token (is offline_access among the scopes?)", ""},
	ReasonScopesChanged:    {"the stored token was had for other scopes", "refreshing for these"},
	ReasonRefreshNotShared: {"this provider's refresh tokens serve one org each, so this org signs in on its own", ""},
	ReasonAccountChanged:   {"account changed", ""},
}

// missingScopes lists the wanted resource scopes a grant lacks, as
// ScopesCover compares them.
func missingScopes(granted, want []string) []string {
	var out []string
	for _, s := range want {
		if !ScopesCover(granted, []string{s}) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
