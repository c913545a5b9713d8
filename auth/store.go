package auth

import (
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Grant is everything connform holds for one account key: the refresh token
// (Entra binds it to user and client, not to a resource, so one serves every
// org of the key) and the access tokens obtained with it, one per resource.
type Grant struct {
	// Account is the signed-in user's name (or "app" for client credentials).
	Account      string `json:"account,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	// RefreshDropped says when and why a refresh token Entra refused was
	// dropped ("2006-01-02 15:04 UTC: invalid_grant: AADSTS70008: ..."), so
	// `connform auth status` can explain the sign-in now needed; "" while a
	// refresh token is held. Entra's message only, never a token.
	RefreshDropped string `json:"refresh_dropped,omitempty"`
	// RefreshResource is the org the held refresh token was issued or
	// last redeemed for: when the provider refuses it for another org
	// with invalid_scope, its refresh tokens do not span resources.
	RefreshResource string `json:"refresh_resource,omitempty"`
	// RefreshPerResource, when set, says when and why connform learnt
	// that this authority binds each refresh token to one org (standard
	// OpenID providers do; Entra does not): each org then keeps its own
	// refresh token (AccessToken.RefreshToken) and signs in on its own.
	RefreshPerResource string                  `json:"refresh_per_resource,omitempty"`
	Access             map[string]*AccessToken `json:"access,omitempty"` // by resource (org root URL)
}

// AccessToken is one access token for one resource.
type AccessToken struct {
	Token  string    `json:"token"`
	Expiry time.Time `json:"expiry"`
	Scopes []string  `json:"scopes,omitempty"` // granted
	// Requested are the scopes asked for when the token was had.
	Requested []string `json:"requested,omitempty"`
	// Accepted is the rule for tokens granted fewer scopes than
	// requested (RFC 6749 §3.3 lets a provider do so): once the org
	// accepted such a token (WhoAmI succeeded), it serves the same
	// requested scopes from then on, and its refresh asks for what was
	// granted, so connform does not ask a person on every run for scopes
	// the provider will never grant. Changing the requested scopes asks
	// again.
	Accepted bool `json:"accepted,omitempty"`
	// RefreshToken is this org's own refresh token, kept only where the
	// provider's refresh tokens do not span resources
	// (Grant.RefreshPerResource).
	RefreshToken string `json:"refresh_token,omitempty"`
}

// Valid reports whether the token can still be used at now, keeping a
// margin so a token does not expire between the check and its use.
func (t *AccessToken) Valid(now time.Time) bool {
	return t != nil && t.Token != "" && now.Add(ExpiryMargin).Before(t.Expiry)
}

// ExpiryMargin is how long before its expiry a token counts as expired.
const ExpiryMargin = 2 * time.Minute

// Store keeps grants by account key. Get returns (nil, nil) for an unknown
// key. Implementations must be safe for concurrent use. A Store may defer
// writes that only add access tokens (never a refresh token change) until
// Flush (see Flusher); whoever opens a store calls auth.Flush at the end.
type Store interface {
	Get(key string) (*Grant, error)
	Put(key string, g *Grant) error
	Delete(key string) error
}

// Key names the store entry for an account: the authority (token endpoint
// host and tenant path), the client id and the account (a login hint, or
// "default" for whoever signs in, or "app" for client credentials). It holds
// no secret, so it may be written to the state and shown to users.
func Key(tokenURL, clientID, account string) string {
	authority := keyAuthority(tokenURL)
	if account == "" {
		account = "default"
	}
	return authority + "|" + clientID + "|" + strings.ToLower(account)
}

// lastAuthority is the last token URL keyAuthority parsed, with its answer:
// a plan or apply asks for the keys of thousands of connections that share
// a few token URLs, and parsing one costs more than the rest of Key.
var lastAuthority atomic.Pointer[[2]string]

// keyAuthority is the token endpoint's host and tenant path.
func keyAuthority(tokenURL string) string {
	if last := lastAuthority.Load(); last != nil && last[0] == tokenURL {
		return last[1]
	}
	authority := tokenURL
	if u, err := url.Parse(tokenURL); err == nil && u.Host != "" {
		authority = u.Host + strings.TrimSuffix(u.Path, "/oauth2/v2.0/token")
	}
	lastAuthority.Store(&[2]string{tokenURL, authority})
	return authority
}

// ScopesCover reports whether a token granted for granted serves a request
// for want: every wanted scope was granted, in any order or case. The OpenID
// scopes and offline_access are ignored: Entra never lists them among an
// access token's scopes. Plan, apply and auth status all decide with it, so
// that what plan predicts is what apply does.
func ScopesCover(granted, want []string) bool {
	have := map[string]bool{}
	for _, s := range granted {
		have[strings.ToLower(s)] = true
	}
	for _, s := range want {
		switch s = strings.ToLower(s); s {
		case "offline_access", "openid", "profile", "email":
			continue
		default:
			if !have[s] {
				return false
			}
		}
	}
	return true
}
