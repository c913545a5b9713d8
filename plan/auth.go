package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"connform/auth"
	"connform/config"
	"connform/state"
)

// AuthKind is how apply will obtain a token for a connection.
type AuthKind int

// Authorisation kinds. Only AuthInteractive needs a person.
const (
	AuthNone AuthKind = iota
	AuthRefresh
	AuthClientCredentials
	AuthInteractive
	// AuthCredential gets the token from an Entra-native credential
	// (azure_cli, managed_identity, workload_identity, client_certificate):
	// silent, and never a browser.
	AuthCredential
)

var authNames = [...]string{"none", "refresh", "client-credentials", "interactive", "credential"}

func (k AuthKind) String() string { return authNames[k] }

// MarshalText writes the kind's name.
func (k AuthKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *AuthKind) UnmarshalText(b []byte) error {
	i := slices.Index(authNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("unknown authorisation kind %q", b)
	}
	*k = AuthKind(i)
	return nil
}

// Auth is the authorisation a change needs, and why.
type Auth struct {
	Kind   AuthKind `json:"kind"`
	Reason string   `json:"reason,omitempty"`
	// Account is the token store key the connection's tokens live under;
	// connections sharing it share one interactive sign-in.
	Account string `json:"account,omitempty"`
	// Fresh makes apply get a new token even when a cached one is valid:
	// the credential changed, and only a new token proves it works.
	Fresh bool `json:"fresh,omitempty"`
	// CoveredBy names the change whose interactive sign-in brings this
	// one's token; apply waits for it, so the sign-in happens where the
	// plan said.
	CoveredBy string `json:"covered_by,omitempty"`
	// Via says how an interactive sign-in happens: "browser" or
	// "device_code" (a code typed in on another device).
	Via string `json:"via,omitempty"`
}

// TokenStatus is what the token store knows for one connection, read by
// the caller without touching the network.
type TokenStatus struct {
	// Grant is true when the store has an entry for the connection's key.
	Grant bool
	// Refreshable is true when that entry holds a refresh token.
	Refreshable bool
	// Access is the access token for this connection's org, if any: its
	// expiry and granted scopes.
	AccessExpiry time.Time
	AccessScopes []string
}

// shareSignIns makes the plan say what apply will do: within one account,
// the first connection that needs a browser sign-in gets it, and every
// other connection of that account is then served silently by the refresh
// token that sign-in brings (Entra refresh tokens are not bound to an org).
func shareSignIns(changes []*Change) {
	first := map[string]string{}
	for _, ch := range changes {
		if ch.Auth.Kind != AuthInteractive {
			continue
		}
		if addr, ok := first[ch.Auth.Account]; ok {
			ch.Auth.Kind = AuthRefresh
			ch.Auth.Via = ""
			ch.Auth.CoveredBy = addr
			ch.Auth.Reason = "covered by the sign-in for " + addr
			continue
		}
		first[ch.Auth.Account] = ch.Addr
	}
}

// authFor predicts how apply will get a token for c. why is the reason to
// give when no usable token exists ("" lets the store's status speak).
func authFor(in Input, c *config.Connection, why string) Auth {
	key := TokenKey(c)
	ts := tokenStatus(in, key, c.URL)
	a := Auth{Account: key}
	switch {
	case accessValid(ts, in.Now) && auth.ScopesCover(ts.AccessScopes, c.Scopes):
		a.Kind = AuthNone
		a.Reason = "token valid until " + ts.AccessExpiry.UTC().Format("2006-01-02 15:04 MST")
	case config.IsNativeMethod(c.AuthenticationMethod):
		a.Kind = AuthCredential
		a.Reason = cmp.Or(why, "no valid token") + "; " + CredentialSource[c.AuthenticationMethod]
	case c.GrantType == config.GrantClientCredentials:
		a.Kind = AuthClientCredentials
		a.Reason = cmp.Or(why, "no valid token; the app signs in with its secret")
	case ts.Refreshable && (ts.AccessExpiry.IsZero() || auth.ScopesCover(ts.AccessScopes, c.Scopes)):
		a.Kind = AuthRefresh
		if ts.AccessExpiry.IsZero() {
			a.Reason = "no token for this org yet; the account's refresh token covers it"
		} else {
			a.Reason = "token expired; refreshing silently"
		}
	default:
		a.Kind = AuthInteractive
		a.Via = "browser"
		if c.GrantType == config.GrantDeviceCode {
			a.Via = "device_code"
		}
		switch {
		case ts.Refreshable:
			a.Reason = "scopes changed"
		case ts.Grant:
			a.Reason = "token expired and there is no refresh token"
		default:
			a.Reason = cmp.Or(why, "no token")
		}
	}
	return a
}

func tokenStatus(in Input, key, resource string) TokenStatus {
	if in.Tokens == nil {
		return TokenStatus{}
	}
	return in.Tokens(key, resource)
}

func accessValid(ts TokenStatus, now time.Time) bool {
	return !ts.AccessExpiry.IsZero() && now.Add(auth.ExpiryMargin).Before(ts.AccessExpiry)
}

// CredentialSource says where an Entra-native credential's token comes
// from, in words for a reason shown to the user.
var CredentialSource = map[string]string{
	config.MethodAzureCLI:          "from the Azure CLI's sign-in (az login)",
	config.MethodManagedIdentity:   "from the managed identity endpoint",
	config.MethodWorkloadIdentity:  "the app signs in with the federated token",
	config.MethodClientCertificate: "the app signs in with its certificate",
}

// TokenKey is the token store key for a connection: one per authority,
// client and account, so every org reached by the same app and user shares
// one refresh token and one sign-in.
func TokenKey(c *config.Connection) string {
	account := c.LoginHint
	if c.GrantType == config.GrantClientCredentials {
		account = "app"
	}
	if config.IsNativeMethod(c.AuthenticationMethod) {
		// Each credential is its own account: a CLI sign-in, an identity,
		// an app with a certificate or a federated token.
		account = c.AuthenticationMethod
	}
	return auth.Key(c.TokenURL, c.ClientID, account)
}

// signIn sets the sign-in an existing connection's change needs, and turns
// a no-op into an update when no token can be had without a person.
// changed lists the attributes diff found changed.
func signIn(in Input, c *config.Connection, prior *state.Connection, ch *Change, changed []string) {
	// An unchanged connection is in sync while a token can still be had
	// without a person; otherwise it needs an update that signs in again.
	key := TokenKey(c)
	ts := tokenStatus(in, key, c.URL)
	usable := c.GrantType == config.GrantClientCredentials || config.IsNativeMethod(c.AuthenticationMethod) || ts.Refreshable ||
		(accessValid(ts, in.Now) && auth.ScopesCover(ts.AccessScopes, c.Scopes))
	if !usable {
		if ch.Action == NoOp {
			ch.Action = Update
		}
		why := ReasonNoToken
		if ts.Grant {
			why = ReasonTokenExpired
		}
		ch.Reasons = append(ch.Reasons, Reason{Code: why})
	}
	if attrs := strings.Join(c.CredentialChanged(changed), ", "); attrs != "" {
		// The cached token proves the old credential only; apply gets a
		// new one so a bad secret or certificate shows now, not at the
		// next expiry.
		kind := AuthClientCredentials
		if config.IsNativeMethod(c.AuthenticationMethod) {
			kind = AuthCredential
		}
		ch.Auth = Auth{Kind: kind, Reason: attrs + " changed; a new token proves it", Account: key, Fresh: true}
		return
	}
	if slices.Contains(changed, "client_secret") && ts.Refreshable {
		// A confidential app's user sign-in: a refresh presents the new
		// secret, so a wrong one shows now.
		ch.Auth = Auth{Kind: AuthRefresh, Reason: "client_secret changed; a refresh with it proves it", Account: key, Fresh: true}
		return
	}
	if c.LoginHint != prior.Attributes["login_hint"] {
		ch.Auth = authFor(in, c, "account changed")
		return
	}
	if ch.Action != NoOp {
		ch.Auth = authFor(in, c, "")
	}
}
