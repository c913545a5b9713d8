package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// ProgressKind names what a token source is doing, for the person.
type ProgressKind int

// Progress kinds.
const (
	// ProgressRefreshing: a silent refresh is under way.
	ProgressRefreshing ProgressKind = iota
	// ProgressSigningIn: an interactive sign-in starts; Message says why
	// and how.
	ProgressSigningIn
	// ProgressDeviceCode: Message says which page to open and which code
	// to enter.
	ProgressDeviceCode
	// ProgressPlanNotKept: the plan promised a silent token, but getting
	// it needs a person; Message says why.
	ProgressPlanNotKept
	// ProgressWaiting: a sign-in waits for a person; Message says how long
	// it still will and how to give up.
	ProgressWaiting
)

// Progress is one step a person should see. It never carries a secret.
type Progress struct {
	Addr    string
	Kind    ProgressKind
	Message string
}

// Source hands out access tokens the way x/oauth2's ReuseTokenSource does,
// for every connection of a run: the cached token, else a silent one
// (refresh token, client secret, credential), else an interactive sign-in.
// A rotated refresh token is in the store before the access token is
// returned; work on one store key is serialised, because providers rotate
// refresh tokens on use and two parallel refreshes would spoil each other.
// Within one Source, an account whose interactive sign-in failed is not
// asked again. Its zero value is not usable: Store and Flow are required.
type Source struct {
	Store Store
	Flow  *Flow
	// Interactive is false under -input=false: a token that needs a person
	// fails saying which sign-in is needed.
	Interactive bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Progress receives what the person must see; nil drops it.
	Progress func(Progress)
	// Log records which way each token was had; nil means none. Never a
	// secret.
	Log *slog.Logger

	mu     sync.Mutex
	groups map[string]*sync.Mutex
	failed map[string]string // key → the address whose sign-in failed
	// records caches the authority records read or written (nil: none),
	// by authority key: one store read per authority, not per connection.
	records     map[string]*Grant
	interactive int
	// signIn serialises sign-ins: a person can answer one at a time.
	signIn sync.Mutex
}

// Token is what a Source hands out. It holds a secret: never print it.
type Token struct {
	AccessToken string
	// Account is who the token acts as (the signed-in user, or the app).
	Account string
	// SignedIn reports that a person signed in for it.
	SignedIn bool
}

// Interactive counts the sign-ins a person completed through s.
func (s *Source) InteractiveCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.interactive
}

func (s *Source) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Source) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Source) progress(p Progress) {
	if s.Progress != nil {
		s.Progress(p)
	}
}

func (s *Source) group(key string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups == nil {
		s.groups = map[string]*sync.Mutex{}
	}
	g := s.groups[key]
	if g == nil {
		g = &sync.Mutex{}
		s.groups[key] = g
	}
	return g
}

// Token returns an access token for c. planned is what the plan promised
// (nil outside a plan): when it promised a silent token and a person is
// needed after all, the source says so (ProgressPlanNotKept) before it
// signs in; when it promised a sign-in, a refused refresh leads to that
// sign-in, never to a failure. planned.Fresh skips a valid cached token.
func (s *Source) Token(ctx context.Context, c Conn, planned *Need) (Token, error) {
	m := c.Method()
	key := m.Key(c)
	g := s.group(key)
	g.Lock()
	defer g.Unlock()
	log := s.log().With("address", c.Addr, "account_key", key)

	grant, err := s.Store.Get(key)
	if err != nil {
		return Token{}, fmt.Errorf("%s: reading the token store: %w", c.Addr, err)
	}
	if grant, err = s.withAuthority(key, grant); err != nil {
		return Token{}, fmt.Errorf("%s: %w", c.Addr, err)
	}
	if grant == nil {
		grant = &Grant{}
	}
	now := s.now()
	need := m.Need(c, grant, now)
	if planned != nil && planned.Fresh && need.Kind == NeedNothing {
		need = m.Need(c, withoutAccess(grant, c.Resource), now)
		need.Fresh = true
	}
	if need.Kind == NeedNothing {
		log.Debug("token from the store", "expires", need.Until)
		at := grant.Access[c.Resource]
		return Token{AccessToken: at.Token, Account: grant.Account}, nil
	}
	env := &Env{Flow: s.Flow, Progress: s.Progress}
	if need.Kind != NeedInteractive {
		if need.Kind == NeedRefresh {
			s.progress(Progress{Addr: c.Addr, Kind: ProgressRefreshing})
		}
		res, err := m.Silent(ctx, env, c, grant)
		if err == nil {
			switch need.Kind {
			case NeedRefresh:
				log.Debug("token by refresh", "rotated", res.RefreshToken != "" && res.RefreshToken != grant.refreshFor(c.Resource))
			case NeedClientSecret:
				log.Debug("token by client credentials", "fresh", need.Fresh)
			default:
				log.Debug("token from an Entra credential", "method", m.Name())
			}
			return s.save(c, key, grant, res, false)
		}
		log.Debug("silent token failed", "need", need.Kind.String(), "error", err.Error())
		if need.Kind != NeedRefresh {
			return Token{}, err
		}
		why, ok := s.refused(c, grant, err)
		if !ok {
			return Token{}, explain(c, "refreshing the token", err)
		}
		if err := s.Store.Put(key, grant); err != nil {
			return Token{}, fmt.Errorf("%s: updating the token store: %w", c.Addr, err)
		}
		if err := s.remember(key, grant); err != nil {
			return Token{}, fmt.Errorf("%s: %w", c.Addr, err)
		}
		need = why
		need.Way = m.Need(c, nil, now).Way
	}
	if planned != nil && planned.Kind.Silent() && s.failedFor(key) == "" {
		s.progress(Progress{Addr: c.Addr, Kind: ProgressPlanNotKept, Message: "the plan expected a silent token, but " + need.Text()})
	}
	return s.signInLocked(ctx, env, m, c, key, grant, need)
}

// refused handles a silent refresh the provider refused in a way only a
// person can mend (invalid_grant, interaction_required, consent_required,
// invalid_scope): the refresh token is dropped (or, when it was issued for
// another org and the provider says invalid_scope, kept for that org and
// the authority remembered as one whose refresh tokens do not span
// resources), and the returned need says why a person signs in now.
func (s *Source) refused(c Conn, g *Grant, err error) (Need, bool) {
	var ae *Error
	if !errors.As(err, &ae) || !(ae.SignInAgain() || ae.InteractionRequired() || ae.Code == "invalid_scope") {
		return Need{}, false
	}
	stamp := s.now().UTC().Format("2006-01-02 15:04 MST")
	if ae.Code == "invalid_scope" && g.RefreshPerResource == "" && g.RefreshResource != "" && g.RefreshResource != c.Resource &&
		sameShape(g.access(g.RefreshResource), g.RefreshResource, c) {
		// The token served another org for the same scopes, and this org
		// is refused them: the provider binds refresh tokens to a
		// resource (a scope wrong for this org alone would differ in
		// shape). Keep the token for the org it serves; this org gets its
		// own.
		g.RefreshPerResource = stamp + ": " + ae.Error()
		if at := g.Access[g.RefreshResource]; at != nil {
			at.RefreshToken = g.RefreshToken
		}
		g.RefreshToken, g.RefreshResource = "", ""
		return Need{Kind: NeedInteractive, Code: ReasonRefreshNotShared, At: stamp}, true
	}
	if g.RefreshPerResource != "" {
		if at := g.Access[c.Resource]; at != nil {
			at.RefreshToken = ""
		}
	} else {
		g.RefreshToken, g.RefreshResource = "", ""
	}
	g.RefreshDropped = stamp + ": " + ae.Error()
	if at := g.Access[c.Resource]; ae.Code == "invalid_scope" && at != nil && !at.Serves(c.Scopes) {
		return Need{Kind: NeedInteractive, Code: ReasonScopesNotGranted, Scopes: missingScopes(at.Scopes, c.Scopes)}, true
	}
	return Need{Kind: NeedInteractive, Code: ReasonRefreshFailed, Detail: Reason(ae), consent: ae.Has(65001)}, true
}

// sameShape reports whether c asks of its org what at was had for at
// resource: the same scopes, with the org's URL in place of the other's.
func sameShape(at *AccessToken, resource string, c Conn) bool {
	if at == nil {
		return false
	}
	moved := make([]string, len(at.Requested))
	for i, s := range at.Requested {
		if rest, ok := strings.CutPrefix(s, resource); ok {
			s = c.Resource + rest
		}
		moved[i] = s
	}
	return sameScopes(moved, c.Scopes)
}

// signInLocked asks a person, at most once per account in a run after a
// failure. It runs with the key's lock held.
func (s *Source) signInLocked(ctx context.Context, env *Env, m Method, c Conn, key string, grant *Grant, why Need) (Token, error) {
	if !s.Interactive {
		how := "in a browser"
		if why.Way == WayDeviceCode {
			how = "with a device code"
		}
		return Token{}, fmt.Errorf("%s needs an interactive sign-in (%s), but input is disabled (-input=false); run connform apply in a terminal to sign in %s, or connform login", c.Addr, why.Text(), how)
	}
	s.signIn.Lock()
	defer s.signIn.Unlock()
	// One person, one account: when they did not finish its sign-in (timed
	// out, cancelled, declined) or the app itself is misconfigured (a wrong
	// secret, an unregistered redirect), asking again for every other org
	// of the account would cost a timeout each and end the same way.
	if failedAt := s.failedFor(key); failedAt != "" {
		return Token{}, fmt.Errorf("%s: not signing in again: the sign-in for this account failed for %s in this run (see its error); fix that and run again", c.Addr, failedAt)
	}
	if why.consent {
		// The provider wants consent for this org's scopes: ask for it, or
		// the new sign-in would be refused the same way.
		c.Prompt = "consent"
	}
	s.log().Debug("interactive sign-in", "address", c.Addr, "reason", string(why.Code), "method", m.Name())
	res, err := m.SignIn(ctx, env, c, why)
	if err != nil {
		if Unfinished(err) || AppMisconfigured(err) {
			s.mu.Lock()
			if s.failed == nil {
				s.failed = map[string]string{}
			}
			s.failed[key] = c.Addr
			s.mu.Unlock()
		}
		return Token{}, err
	}
	s.mu.Lock()
	s.interactive++
	s.mu.Unlock()
	return s.save(c, key, grant, res, true)
}

// withAuthority is key's grant g as its authority's record has it seen
// (see the package's withAuthority). A grant that carries the note itself
// (written before connform kept it per authority) teaches it to the
// authority, so the other apps and accounts of the provider predict their
// sign-ins from then on.
func (s *Source) withAuthority(key string, g *Grant) (*Grant, error) {
	if g != nil && g.RefreshPerResource != "" {
		return g, s.remember(key, g)
	}
	rec, err := s.record(AuthorityKey(key))
	if err != nil {
		return nil, err
	}
	return withAuthority(g, rec), nil
}

func (s *Source) record(ak string) (*Grant, error) {
	s.mu.Lock()
	rec, ok := s.records[ak]
	s.mu.Unlock()
	if ok {
		return rec, nil
	}
	rec, err := s.Store.Get(ak)
	if err != nil {
		return nil, fmt.Errorf("reading what the token store knows of the authority: %w", err)
	}
	s.mu.Lock()
	if s.records == nil {
		s.records = map[string]*Grant{}
	}
	s.records[ak] = rec
	s.mu.Unlock()
	return rec, nil
}

// remember writes g's note, if any, to the record of key's authority,
// unless the record has one already.
func (s *Source) remember(key string, g *Grant) error {
	if g == nil || g.RefreshPerResource == "" {
		return nil
	}
	ak := AuthorityKey(key)
	rec, err := s.record(ak)
	if err != nil || (rec != nil && rec.RefreshPerResource != "") {
		return err
	}
	rec = authorityRecord(g.RefreshPerResource)
	if err := s.Store.Put(ak, rec); err != nil {
		return fmt.Errorf("noting in the token store that the authority's refresh tokens serve one org each: %w", err)
	}
	s.mu.Lock()
	s.records[ak] = rec
	s.mu.Unlock()
	return nil
}

func (s *Source) failedFor(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed[key]
}

// save stores a fresh token before it is used: a rotated refresh token
// exists nowhere else, so losing it would force a sign-in next time.
func (s *Source) save(c Conn, key string, g *Grant, res *Result, signedIn bool) (Token, error) {
	if res.Account != "" {
		g.Account = res.Account
	}
	if g.Access == nil {
		g.Access = map[string]*AccessToken{}
	}
	at := &AccessToken{Token: res.AccessToken, Expiry: res.Expiry, Scopes: res.Scopes, Requested: c.Scopes}
	if old := g.Access[c.Resource]; old != nil {
		at.RefreshToken = old.RefreshToken
		// Refreshing a token the org accepted narrower keeps it accepted:
		// the same scopes were granted again.
		at.Accepted = old.Accepted && sameScopes(old.Requested, c.Scopes) && ScopesCover(res.Scopes, old.Scopes)
	}
	if res.RefreshToken != "" {
		if g.RefreshPerResource != "" {
			at.RefreshToken = res.RefreshToken
		} else {
			g.RefreshToken, g.RefreshResource = res.RefreshToken, c.Resource
		}
		g.RefreshDropped = ""
	}
	g.Access[c.Resource] = at
	if err := s.Store.Put(key, g); err != nil {
		return Token{}, fmt.Errorf("%s: saving the token: %w", c.Addr, err)
	}
	return Token{AccessToken: res.AccessToken, Account: g.Account, SignedIn: signedIn}, nil
}

// waitingFlow is env's flow telling c's person how long it waits.
func waitingFlow(env *Env, c Conn) *Flow {
	f := *env.Flow
	f.Waiting = func(waited, left time.Duration) {
		msg := "waiting up to " + left.Round(time.Second).String() + " for the sign-in; Ctrl-C gives up"
		if waited > 0 {
			msg = "still waiting for the sign-in (" + left.Round(time.Second).String() + " left); Ctrl-C gives up"
		}
		env.progress(Progress{Addr: c.Addr, Kind: ProgressWaiting, Message: msg})
	}
	return &f
}

// Rejected handles an access token c's org refused (HTTP 401): the token is
// dropped from the store, so no later run reuses it, and a new one is had
// silently, once (refresh token, client secret or credential). When only a
// person could get one, it fails saying so rather than prompting: the plan
// promised no sign-in for this.
func (s *Source) Rejected(ctx context.Context, c Conn) (Token, error) {
	m := c.Method()
	key := m.Key(c)
	g := s.group(key)
	g.Lock()
	defer g.Unlock()
	grant, err := s.dropAccess(c, key)
	if err != nil {
		return Token{}, err
	}
	if grant, err = s.withAuthority(key, grant); err != nil {
		return Token{}, fmt.Errorf("%s: %w", c.Addr, err)
	}
	need := m.Need(c, grant, s.now())
	if !need.Kind.Silent() || need.Kind == NeedNothing {
		return Token{}, fmt.Errorf("%s: the org refused the token, which connform dropped; a new one needs an interactive sign-in (%s): run connform apply again in a terminal, or connform login", c.Addr, need.Text())
	}
	s.log().Debug("org refused the token; getting a new one silently", "address", c.Addr, "need", need.Kind.String())
	if need.Kind == NeedRefresh {
		s.progress(Progress{Addr: c.Addr, Kind: ProgressRefreshing})
	}
	res, err := m.Silent(ctx, &Env{Flow: s.Flow, Progress: s.Progress}, c, grant)
	if err != nil {
		if need.Kind == NeedRefresh {
			return Token{}, explain(c, "refreshing the token", err)
		}
		return Token{}, err
	}
	return s.save(c, key, grant, res, false)
}

// DropAccess forgets c's access token (its org refused it), keeping the
// refresh token, so that no later run reuses it.
func (s *Source) DropAccess(c Conn) error {
	key := c.Key()
	g := s.group(key)
	g.Lock()
	defer g.Unlock()
	_, err := s.dropAccess(c, key)
	return err
}

func (s *Source) dropAccess(c Conn, key string) (*Grant, error) {
	grant, err := s.Store.Get(key)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the token store: %w", c.Addr, err)
	}
	if grant == nil {
		return &Grant{}, nil
	}
	if at := grant.Access[c.Resource]; at != nil && at.Token != "" {
		at.Token, at.Expiry = "", time.Time{}
		if err := s.Store.Put(key, grant); err != nil {
			return nil, fmt.Errorf("%s: updating the token store: %w", c.Addr, err)
		}
	}
	return grant, nil
}

// Accepted records that c's org accepted its stored access token. A token
// granted fewer scopes than requested then serves the same request until
// the requested scopes change: connform does not ask for what the provider
// will not grant on every run (see AccessToken.Accepted).
func (s *Source) Accepted(c Conn) error {
	key := c.Key()
	g := s.group(key)
	g.Lock()
	defer g.Unlock()
	grant, err := s.Store.Get(key)
	if err != nil || grant == nil {
		return err
	}
	at := grant.Access[c.Resource]
	if at == nil || at.Accepted || ScopesCover(at.Scopes, c.Scopes) || !sameScopes(at.Requested, c.Scopes) {
		return nil
	}
	at.Accepted = true
	return s.Store.Put(key, grant)
}

// refresh redeems the refresh token for c's org. For a token the org
// accepted with fewer scopes than requested, it asks for the scopes
// granted: a provider refuses a refresh asking for more (RFC 6749 §6).
func refresh(ctx context.Context, env *Env, c Conn, g *Grant) (*Result, error) {
	rt := g.refreshFor(c.Resource)
	if rt == "" {
		return nil, errNoSilentWay
	}
	p := c.params()
	if at := g.access(c.Resource); at != nil && at.Accepted && !ScopesCover(at.Scopes, c.Scopes) && at.Serves(c.Scopes) {
		p.Scopes = append([]string(nil), at.Scopes...)
		for _, s := range c.Scopes {
			if ScopesCover(nil, []string{s}) {
				p.Scopes = append(p.Scopes, s) // offline_access, openid, ...
			}
		}
	}
	return env.Flow.Refresh(ctx, p, rt)
}

// explain says which connection failed doing what. Entra's refusals are
// explained in plain words with what to fix (Explain); the cause stays
// reachable through errors.As.
func explain(c Conn, doing string, err error) error {
	if errors.Is(err, context.Canceled) {
		// Ctrl-C: the reason is known; the chain of wrappers says nothing more.
		return fmt.Errorf("%s: %s was interrupted: %w", c.Addr, doing, context.Canceled)
	}
	var ee *explainedError
	if errors.As(err, &ee) {
		return err
	}
	var ae *Error
	if errors.As(err, &ae) {
		// The explanations name scopes generically; this connection's org
		// makes them copyable.
		return &explainedError{msg: strings.ReplaceAll(Explain(c.Addr, err), "{org}", c.Resource), err: err}
	}
	return fmt.Errorf("%s: %s failed: %w", c.Addr, doing, err)
}

type explainedError struct {
	msg string
	err error
}

func (e *explainedError) Error() string { return e.msg }
func (e *explainedError) Unwrap() error { return e.err }

// unknown is a method name the registry does not know; the configuration
// refuses such names first, so only a caller that skipped validation
// meets it.
type unknown struct{ name string }

func (u unknown) Name() string         { return u.name }
func (u unknown) Key(c Conn) string    { return Key(c.TokenURL, c.ClientID, u.name) }
func (unknown) AppOnly() bool          { return false }
func (unknown) Invalidators() []string { return nil }
func (u unknown) Need(Conn, *Grant, time.Time) Need {
	return Need{Kind: NeedCredential, Code: ReasonUnknownMethod, Method: u.name}
}
func (u unknown) Silent(context.Context, *Env, Conn, *Grant) (*Result, error) {
	return nil, fmt.Errorf("unknown authentication method %q", u.name)
}
func (unknown) SignIn(context.Context, *Env, Conn, Need) (*Result, error) {
	return nil, errNotInteractive
}
