package auth

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// Conn is the auth side of one connection: what a method needs to know to
// decide and to get a token. config, plan and apply fill it in; auth never
// reads HCL.
type Conn struct {
	// Addr names the connection in messages.
	Addr string
	// Resource is the org root URL: access tokens are kept per resource.
	Resource string
	// GrantType and AuthenticationMethod choose the Method (MethodFor).
	GrantType, AuthenticationMethod string

	AuthorizationURL, TokenURL, ClientID, Redirect string
	// ClientSecret is sensitive: it goes to the token endpoint and nowhere
	// else. Its presence makes a user sign-in confidential.
	ClientSecret string
	Scopes       []string
	Prompt       string
	LoginHint    string
	TenantID     string
	// The Entra-native credentials' inputs.
	CertificatePath, CertificatePassword, FederatedTokenFile string
}

// Method is one way of getting a token, as azidentity has one credential
// type per way. Implementations are stateless; each lives in its own file
// and is registered in registry.go.
type Method interface {
	// Name is the grant_type or authentication_method naming it.
	Name() string
	// Key is the token store key of the account c signs in as.
	Key(c Conn) string
	// AppOnly reports whether the token is the app's (or an identity's),
	// not a user's.
	AppOnly() bool
	// Invalidators are the attributes whose change makes a stored token
	// prove nothing about the connection: a new token must be had.
	Invalidators() []string
	// Need says what getting c's token takes with grant g (nil when the
	// store holds nothing) at now.
	Need(c Conn, g *Grant, now time.Time) Need
	// Silent gets a token without a person: the refresh token, the client
	// secret or the credential. It returns errNoSilentWay when the method
	// has none with g.
	Silent(ctx context.Context, env *Env, c Conn, g *Grant) (*Result, error)
	// SignIn asks a person; app-only methods return errNotInteractive.
	// why is the need that calls for it, for the person.
	SignIn(ctx context.Context, env *Env, c Conn, why Need) (*Result, error)
}

// Env is what methods use to act: the OAuth flows and how to tell the
// person what is happening.
type Env struct {
	Flow *Flow
	// Progress receives what the person must know while it happens.
	Progress func(Progress)
}

func (e *Env) progress(p Progress) {
	if e.Progress != nil {
		e.Progress(p)
	}
}

var (
	errNoSilentWay    = errors.New("no silent way to get a token")
	errNotInteractive = errors.New("this authentication method never signs a person in")
)

// Method returns c's method.
func (c Conn) Method() Method { return MethodFor(c.GrantType, c.AuthenticationMethod) }

// Key is c's token store key.
func (c Conn) Key() string { return c.Method().Key(c) }

// AppOnly reports whether c's token is an app's or an identity's.
func (c Conn) AppOnly() bool { return c.Method().AppOnly() }

func (c Conn) params() Params {
	return Params{
		AuthorizationURL: c.AuthorizationURL, TokenURL: c.TokenURL, ClientID: c.ClientID,
		ClientSecret: c.ClientSecret, Redirect: c.Redirect, Scopes: c.Scopes,
		Prompt: c.Prompt, LoginHint: c.LoginHint,
	}
}

// Situation is what the caller knows beyond the token store when it asks
// Decide: what changed in the configuration since the last apply.
type Situation struct {
	// Changed are the attributes changed since the last apply.
	Changed []string
	// Unstored is the reason to give when the store holds nothing for
	// the account (identity_changed, account_changed); "" is no_token.
	Unstored ReasonCode
	// UnstoredAttrs are the attributes behind Unstored.
	UnstoredAttrs []string
}

// Decide is the one decision of what c's token takes: plan predicts with
// it, the token source follows it, `auth status` shows it. g is what the
// store holds under c.Key() (nil for nothing).
func Decide(c Conn, g *Grant, now time.Time, s Situation) Need {
	m := c.Method()
	var attrs []string
	for _, a := range m.Invalidators() {
		if slices.Contains(s.Changed, a) {
			attrs = append(attrs, a)
		}
	}
	if len(attrs) > 0 {
		// Without this org's cached access token, would a silent way
		// remain? Then it proves the new credential now, not at expiry.
		if n := m.Need(c, withoutAccess(g, c.Resource), now); n.Kind.Silent() && n.Kind != NeedNothing {
			return Need{Kind: n.Kind, Code: ReasonCredentialChanged, Attrs: attrs, Fresh: true, Method: m.Name()}
		}
	}
	n := m.Need(c, g, now)
	if n.Code == ReasonNoToken && s.Unstored != "" {
		n.Code, n.Attrs = s.Unstored, s.UnstoredAttrs
	}
	return n
}

func withoutAccess(g *Grant, resource string) *Grant {
	if g == nil || g.Access[resource] == nil {
		return g
	}
	c := *g
	c.Access = map[string]*AccessToken{}
	for k, v := range g.Access {
		if k != resource {
			c.Access[k] = v
		} else if v.RefreshToken != "" {
			c.Access[k] = &AccessToken{RefreshToken: v.RefreshToken}
		}
	}
	return &c
}

// empty reports whether g holds nothing for its account: no token and no
// note of a refused refresh. That the authority's refresh tokens do not
// span resources says nothing of the account: one that never signed in
// has no token.
func (g *Grant) empty() bool {
	return g == nil || (g.RefreshToken == "" && len(g.Access) == 0 && g.RefreshDropped == "")
}

// access is g's access token for resource, nil when none.
func (g *Grant) access(resource string) *AccessToken {
	if g == nil {
		return nil
	}
	return g.Access[resource]
}

// Serves reports whether the token answers a request for want: its granted
// scopes cover want, or it was granted fewer but an org accepted it for
// exactly these requested scopes (see AccessToken.Accepted).
func (t *AccessToken) Serves(want []string) bool {
	if t == nil {
		return false
	}
	return ScopesCover(t.Scopes, want) || (t.Accepted && sameScopes(t.Requested, want))
}

func sameScopes(a, b []string) bool {
	return len(a) == len(b) && ScopesCover(a, b) && ScopesCover(b, a)
}

// refreshFor is the refresh token that can get a token for resource: the
// account's, or, where the provider's refresh tokens serve one org each,
// that org's own.
func (g *Grant) refreshFor(resource string) string {
	if g == nil {
		return ""
	}
	if g.RefreshPerResource != "" {
		if at := g.Access[resource]; at != nil {
			return at.RefreshToken
		}
		return ""
	}
	return g.RefreshToken
}

// appNeed is the need of a method whose token the app (or an identity)
// gets silently whenever the cached one does not serve.
func appNeed(kind NeedKind, name string, c Conn, g *Grant, now time.Time) Need {
	at := g.access(c.Resource)
	switch {
	case at.Valid(now) && at.Serves(c.Scopes):
		return Need{Kind: NeedNothing, Code: ReasonValid, Until: at.Expiry}
	case at != nil && !at.Serves(c.Scopes):
		return Need{Kind: kind, Code: ReasonScopesNotGranted, Scopes: missingScopes(at.Scopes, c.Scopes), Method: name}
	case at != nil:
		return Need{Kind: kind, Code: ReasonExpired, Method: name}
	}
	return Need{Kind: kind, Code: ReasonNoToken, Method: name}
}

// user is what the user sign-ins (browser, device code) share: the
// account's key, the cached token, then the refresh token; each adds its
// own SignIn.
type user struct {
	name string
	way  Way
}

func (m user) Name() string                              { return m.name }
func (user) Key(c Conn) string                           { return Key(c.TokenURL, c.ClientID, c.LoginHint) }
func (user) AppOnly() bool                               { return false }
func (user) Invalidators() []string                      { return []string{"client_secret"} }
func (m user) Need(c Conn, g *Grant, now time.Time) Need { return userNeed(m.way, c, g, now) }
func (user) Silent(ctx context.Context, env *Env, c Conn, g *Grant) (*Result, error) {
	return refresh(ctx, env, c, g)
}

// userNeed is the need of a user sign-in (browser or device code): the
// cached token, else the refresh token, else a person.
func userNeed(way Way, c Conn, g *Grant, now time.Time) Need {
	at := g.access(c.Resource)
	if at != nil && at.Token == "" && at.Requested == nil {
		// Only the org's own refresh token is held: there is no token
		// whose scopes could differ.
		at = nil
	}
	if at.Valid(now) && at.Serves(c.Scopes) {
		return Need{Kind: NeedNothing, Code: ReasonValid, Until: at.Expiry}
	}
	person := func(code ReasonCode) Need { return Need{Kind: NeedInteractive, Way: way, Code: code} }
	rt := g.refreshFor(c.Resource)
	if at != nil && !at.Serves(c.Scopes) {
		if ScopesCover(at.Requested, c.Scopes) {
			// These scopes were asked for and the provider granted fewer;
			// a refresh cannot widen a grant (RFC 6749 §6): only a
			// sign-in may get them.
			n := person(ReasonScopesNotGranted)
			n.Scopes = missingScopes(at.Scopes, c.Scopes)
			return n
		}
		if rt != "" {
			// Asked for other scopes: Entra's refresh tokens get any
			// consented scope; a provider that refuses falls through to
			// a sign-in.
			return Need{Kind: NeedRefresh, Code: ReasonScopesChanged}
		}
		return person(ReasonScopesChanged)
	}
	if rt != "" {
		if at == nil {
			return Need{Kind: NeedRefresh, Code: ReasonNoTokenForOrg}
		}
		return Need{Kind: NeedRefresh, Code: ReasonExpired}
	}
	switch {
	case g.empty():
		return person(ReasonNoToken)
	case g.RefreshPerResource != "" && at == nil:
		n := person(ReasonRefreshNotShared)
		n.At = g.RefreshPerResource
		return n
	case g.RefreshDropped != "":
		when, _, _ := strings.Cut(g.RefreshDropped, ": ")
		n := person(ReasonRefreshFailed)
		n.At = when
		return n
	}
	return person(ReasonNoRefreshToken)
}

// SignInSpans reports whether one interactive sign-in of the account
// behind g serves all its orgs: true unless connform learnt that the
// provider binds refresh tokens to one org (Grant.RefreshPerResource).
func SignInSpans(g *Grant) bool { return g == nil || g.RefreshPerResource == "" }
