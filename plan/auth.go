package plan

import (
	"fmt"
	"slices"

	"connform/auth"
	"connform/config"
	"connform/state"
)

// AuthKind is how apply will obtain a token for a connection: auth's
// decision (auth.NeedKind) as the plan records it. It is the same value,
// not a second list of the ways to get a token; it has a type of its own
// only for the names plan files and plan -json have always written.
type AuthKind auth.NeedKind

// Authorisation kinds. Only AuthInteractive needs a person.
const (
	AuthNone              = AuthKind(auth.NeedNothing)
	AuthRefresh           = AuthKind(auth.NeedRefresh)
	AuthClientCredentials = AuthKind(auth.NeedClientSecret)
	AuthInteractive       = AuthKind(auth.NeedInteractive)
	// AuthCredential gets the token from an Entra-native credential
	// (azure_cli, managed_identity, workload_identity, client_certificate):
	// silent, and never a browser.
	AuthCredential = AuthKind(auth.NeedCredential)
)

var authNames = [...]string{
	AuthNone: "none", AuthRefresh: "refresh", AuthClientCredentials: "client-credentials",
	AuthInteractive: "interactive", AuthCredential: "credential",
}

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
	// ReasonCode is Reason's stable code (auth.ReasonCode): no_token,
	// expired, scopes_not_granted, ...; programs read it, people Reason,
	// which auth words from it.
	ReasonCode auth.ReasonCode `json:"reason_code,omitempty"`
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

// shareSignIns makes the plan say what apply will do: within one account,
// the first connection that needs an interactive sign-in gets it, and every
// other connection of that account is then served silently by the refresh
// token that sign-in brings, unless the token store learnt that the
// account's provider binds refresh tokens to one org.
func shareSignIns(in Input, changes []*Change) {
	first := map[string]string{}
	for _, ch := range changes {
		if ch.Auth.Kind != AuthInteractive {
			continue
		}
		addr, ok := first[ch.Auth.Account]
		if !ok {
			first[ch.Auth.Account] = ch.Addr
			continue
		}
		if !auth.SignInSpans(grantOf(in, ch.Auth.Account)) {
			// An account with no token yet would read "no token" for
			// every org; the second org's own sign-in needs the reason.
			if ch.Auth.ReasonCode == auth.ReasonNoToken {
				ch.Auth = authOf(auth.Need{Kind: auth.NeedInteractive, Way: auth.Way(ch.Auth.Via), Code: auth.ReasonRefreshNotShared}, ch.Auth.Account)
			}
			continue
		}
		ch.Auth = authOf(auth.Need{Kind: auth.NeedRefresh, Code: auth.ReasonCovered, By: addr}, ch.Auth.Account)
		ch.Auth.CoveredBy = addr
	}
}

// decide asks auth what getting c's token takes: the one decision plan,
// apply and auth status share. It returns c's token store key too, which
// the change records: working it out parses the token URL, once is enough.
func decide(in Input, c *config.Connection, sit auth.Situation) (auth.Need, string) {
	ac := AuthConn(c)
	key := ac.Key()
	return auth.Decide(ac, grantOf(in, key), in.Now, sit), key
}

func grantOf(in Input, key string) *auth.Grant {
	if in.Grant == nil {
		return nil
	}
	return in.Grant(key)
}

// authOf records a need in the plan.
func authOf(n auth.Need, key string) Auth {
	return Auth{Kind: AuthKind(n.Kind), Reason: n.Text(), ReasonCode: n.Code, Account: key, Fresh: n.Fresh, Via: string(n.Way)}
}

// Need is the plan's promise for a change, as the token source takes it.
func (a Auth) Need() auth.Need {
	return auth.Need{Kind: auth.NeedKind(a.Kind), Code: a.ReasonCode, Fresh: a.Fresh, Way: auth.Way(a.Via), By: a.CoveredBy}
}

// AuthConn is c as auth sees it.
func AuthConn(c *config.Connection) auth.Conn {
	return auth.Conn{
		Addr: c.Addr, Resource: c.URL,
		GrantType: c.GrantType, AuthenticationMethod: c.AuthenticationMethod,
		AuthorizationURL: c.AuthorizationURL, TokenURL: c.TokenURL, ClientID: c.ClientID,
		ClientSecret: c.ClientSecret, Redirect: c.Redirect, Scopes: c.Scopes,
		Prompt: c.Prompt, LoginHint: c.LoginHint, TenantID: c.TenantID,
		CertificatePath: c.CertificatePath, CertificatePassword: c.CertificatePassword,
		FederatedTokenFile: c.FederatedTokenFile,
	}
}

// TokenKey is the token store key for a connection: one per authority,
// client and account, so every org reached by the same app and user shares
// one refresh token and one sign-in.
func TokenKey(c *config.Connection) string { return AuthConn(c).Key() }

// signIn sets the sign-in an existing connection's change needs, and turns
// a no-op into an update when no token can be had without a person.
// changed lists the attributes diff found changed.
func signIn(in Input, c *config.Connection, prior *state.Connection, ch *Change, changed []string) {
	sit := auth.Situation{Changed: changed}
	if c.LoginHint != prior.Attributes["login_hint"] {
		sit.Unstored = auth.ReasonAccountChanged
	}
	need, key := decide(in, c, sit)
	if need.Kind == auth.NeedInteractive {
		// An unchanged connection is in sync while a token can still be
		// had without a person; otherwise it needs an update that signs
		// in again.
		if ch.Action == NoOp {
			ch.Action = Update
		}
		ch.Reasons = append(ch.Reasons, Reason{Code: signInReason(need.Code)})
	}
	if ch.Action != NoOp || need.Fresh {
		// A changed credential's cached token proves the old one only:
		// apply gets a new token so a bad secret or certificate shows
		// now, not at the next expiry.
		ch.Auth = authOf(need, key)
	}
}

// signInReason names, as a change's reason, why a connection with nothing
// else to change needs an update: its sign-in (Auth says which and why).
func signInReason(code auth.ReasonCode) ReasonCode {
	switch code {
	case auth.ReasonNoToken:
		return ReasonNoToken
	case auth.ReasonNoRefreshToken:
		return ReasonTokenExpired
	}
	return ReasonSignInNeeded
}
