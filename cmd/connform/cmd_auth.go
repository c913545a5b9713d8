package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"connform/addrs"
	"connform/apply"
	"connform/auth"
	"connform/config"
	"connform/plan"
	"connform/state"
)

// The account commands: login, logout and auth status. They work on the
// token store only (never the state, never the library), so they need no
// state lock and can run beside a plan.

// cmdLogin forces a fresh sign-in for the accounts behind the named
// connections: one sign-in per account key, however many connections share
// it, because one refresh token serves every org of the key.
func (c *cli) cmdLogin(ctx context.Context, args []string) error {
	fs := c.flags("login")
	var v varFlags
	v.register(fs)
	all := fs.Bool("all", false, "sign in for every connection of the configuration")
	input := fs.Bool("input", true, "ask for input; login always needs it, so -input=false is refused")
	authTimeout := fs.Duration("auth-timeout", 5*time.Minute, "how long to wait for a person to sign in (browser or device code)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if !*input {
		return errors.New("connform login asks a person to sign in (in a browser or with a device code), and -input=false forbids that; run connform login in a terminal (automation uses grant_type = \"client_credentials\" or an Entra-native authentication_method instead)")
	}
	if err := needNames(fs.Args(), *all, "login"); err != nil {
		return err
	}
	cfg := c.loadConfig(v, nil)
	if cfg == nil {
		return exitError(1)
	}
	conns, err := selectConnections(cfg.Connections, fs.Args(), *all)
	if err != nil {
		return err
	}
	store, err := c.tokenStore()
	if err != nil {
		return err
	}
	log := c.logger()
	flow := c.signInFlow(c.httpClientFor(log), *authTimeout, true)
	var failed int
	for _, g := range groupByKey(conns) {
		first := g.conns[0]
		fmt.Fprintf(c.io.ErrOut, "Signing in: %s (for %s)...\n", accountPhrase(g.key), addrList(g.conns))
		// Hiding the stored grant makes apply's token logic sign in afresh,
		// exactly as apply would (browser, device code, client secret).
		// The old grant stays until the new one replaces it whole (access
		// tokens of other orgs included: they may be another user's), so a
		// failed or cancelled login loses nothing.
		fresh := &hideOnce{Store: store, key: g.key}
		_, account, err := apply.Token(ctx, first, apply.Options{
			Store: fresh, Flow: flow, Interactive: true, Now: c.now, Log: log,
			Events: c.signInProgress,
		})
		if err != nil {
			failed++
			c.errorf("%v", err)
			continue
		}
		fmt.Fprintf(c.io.Out, "%s Signed in as %s for %s.\n", c.io.Paint("green", "✓"), account, addrList(g.conns))
	}
	if failed > 0 {
		return exitError(1)
	}
	return nil
}

// hideOnce is a token store that reports no grant for key until something
// is saved under it, so apply.Token performs a fresh sign-in.
type hideOnce struct {
	auth.Store
	key   string
	saved bool
}

func (s *hideOnce) Get(key string) (*auth.Grant, error) {
	if key == s.key && !s.saved {
		return nil, nil
	}
	return s.Store.Get(key)
}

func (s *hideOnce) Put(key string, g *auth.Grant) error {
	if err := s.Store.Put(key, g); err != nil {
		return err
	}
	if key == s.key {
		s.saved = true
	}
	return nil
}

// cmdLogout forgets the tokens of the accounts behind the named
// connections. It reads nothing it does not need: an expired token, a
// revoked grant or an unreadable store entry must never stand in the way of
// forgetting it.
func (c *cli) cmdLogout(_ context.Context, args []string) error {
	fs := c.flags("logout")
	var v varFlags
	v.register(fs)
	all := fs.Bool("all", false, "forget the tokens of every account the configuration or the state refers to")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if err := needNames(fs.Args(), *all, "logout"); err != nil {
		return err
	}
	// A broken configuration must not keep anyone logged in: the state
	// remembers which account served each connection.
	v.allowEmpty = true
	cfg := c.loadConfig(v, nil)
	statePath := config.DefaultStatePath
	if cfg == nil {
		if _, err := os.Stat(statePath); err != nil {
			return fmt.Errorf("the configuration has errors (above) and there is no %s to say which accounts to log out; fix the configuration, or run connform logout -all after fixing it", statePath)
		}
		fmt.Fprintf(c.io.ErrOut, "%s the configuration has errors (above); logging out the accounts that %s remembers.\n", c.io.Paint("yellow", "Warning:"), statePath)
		cfg = &config.Config{}
		// Its token_store is unknown now; a plaintext token file can only
		// exist because it named one, and must not be missed.
		if home, err := c.connformHome(); err == nil && lstatOK(filepath.Join(home, "tokens.json")) {
			c.storeChoice = auth.Choice{Store: "plaintext"}
		}
	} else {
		statePath = cfg.Settings.StatePath
	}

	// Connections removed from the configuration may still hold tokens: the
	// state remembers which key served them.
	st, stErr := state.NewLocal(statePath).Read()
	var holders []auth.Holder
	for _, cc := range cfg.Connections {
		holders = append(holders, auth.Holder{Addr: cc.Addr, Key: plan.TokenKey(cc)})
	}
	if st != nil {
		for _, sc := range st.Connections {
			holders = append(holders, auth.Holder{Addr: sc.Addr, Key: sc.TokenKey, User: sc.Account})
		}
	}
	matched := map[string]bool{}
	targets := auth.Accounts(holders, func(addr string) bool { return *all || matchesAny(addr, fs.Args(), matched) })
	for _, n := range fs.Args() {
		if !matched[n] {
			return notNamed(n, fmt.Sprintf("no connection named %q in the configuration or the state; connform state list and connform validate show the names", n))
		}
	}
	if stErr != nil {
		fmt.Fprintf(c.io.ErrOut, "%s the state could not be read (%v); only the configuration's connections are logged out\n", c.io.Paint("yellow", "Warning:"), stErr)
	}

	store, err := c.tokenStore()
	if err != nil {
		if !*all {
			return fmt.Errorf("%v\nconnform logout -all sets an unreadable token file aside and logs every account out", err)
		}
		return c.setTokenFileAside(err)
	}
	if len(targets) == 0 {
		fmt.Fprintln(c.io.Out, "No connections, so no tokens to forget.")
		return nil
	}
	var failed int
	for _, t := range targets {
		// Get only to say whether there was something; a damaged entry is
		// deleted all the same.
		g, getErr := store.Get(t.Key)
		user := t.User
		if g != nil && g.Account != "" {
			user = g.Account
		}
		who := signedInPhrase(t.Key, user)
		if err := store.Delete(t.Key); err != nil {
			failed++
			c.errorf("logging out %s (for %s): %v", who, strings.Join(t.Addrs, ", "), err)
			continue
		}
		what := "forgot its tokens"
		if g == nil && getErr == nil {
			what = "no tokens were stored"
		}
		fmt.Fprintf(c.io.Out, "Logged out %s (for %s): %s.\n", who, strings.Join(t.Addrs, ", "), what)
	}
	if *all {
		// What connform learnt of a provider outlives one account's
		// logout, not a logout of everyone.
		keys := make([]string, len(targets))
		for i, t := range targets {
			keys[i] = t.Key
		}
		forgot, err := auth.ForgetAuthorities(store, keys)
		for _, a := range forgot {
			fmt.Fprintf(c.io.Out, "Forgot that %s gives each org its own refresh token.\n", a)
		}
		if err != nil {
			failed++
			c.errorf("forgetting what connform learnt of an authority: %v", err)
		}
	}
	if failed > 0 {
		return exitError(1)
	}
	return nil
}

// setTokenFileAside handles a token store that cannot even be opened under
// logout -all: a token file connform can identify as its own is moved
// aside (not deleted: with the right passphrase it may still be readable),
// which logs every account out. Any other file is left where it is.
func (c *cli) setTokenFileAside(openErr error) error {
	var fe *auth.FileError
	if c.store != nil || !errors.As(openErr, &fe) {
		return openErr
	}
	aside, err := auth.SetAside(fe.Path)
	if err != nil {
		return fmt.Errorf("%v\nlogout -all: %v", openErr, err)
	}
	fmt.Fprintf(c.io.ErrOut, "%s %v\n", c.io.Paint("yellow", "Warning:"), openErr)
	fmt.Fprintf(c.io.Out, "Logged out every account: the unreadable token file was moved to %s (delete it when you no longer need it).\n", aside)
	return nil
}

// cmdAuth dispatches the auth subcommands.
func (c *cli) cmdAuth(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "status" {
		return c.cmdAuthStatus(ctx, args[1:])
	}
	return c.subcommandHelp("auth", args)
}

// Token states shown by auth status.
const (
	tokenValid       = "valid"
	tokenRefreshable = "refreshable"
	tokenAppSecret   = "client-credentials"
	tokenCredential  = "credential"
	tokenSignIn      = "needs-sign-in"
)

type statusReport struct {
	FormatVersion int             `json:"format_version"`
	Store         string          `json:"store"`
	Accounts      []statusAccount `json:"accounts"`
}

type statusAccount struct {
	Key       string `json:"key"`
	Authority string `json:"authority"`
	ClientID  string `json:"client_id"`
	// Account is the configured account: a login hint, "default" (whoever
	// signs in) or "app" (client credentials).
	Account        string `json:"account"`
	SignedInAs     string `json:"signed_in_as,omitempty"`
	RefreshToken   bool   `json:"refresh_token"`
	RefreshDropped string `json:"refresh_dropped,omitempty"`
	// RefreshPerOrg says when connform learnt that this account's provider
	// gives each org its own refresh token (auth.Grant.RefreshPerResource).
	RefreshPerOrg string             `json:"refresh_per_org,omitempty"`
	Connections   []statusConnection `json:"connections"`
}

type statusConnection struct {
	Address string    `json:"address"`
	Org     string    `json:"org"`
	State   string    `json:"state"` // valid | refreshable | client-credentials | credential | needs-sign-in
	Expiry  time.Time `json:"expiry,omitzero"`
	Reason  string    `json:"reason"`
	// ReasonCode is Reason's stable code (auth.ReasonCode).
	ReasonCode auth.ReasonCode `json:"reason_code"`
}

func (c *cli) cmdAuthStatus(_ context.Context, args []string) error {
	fs := c.flags("auth status")
	var v varFlags
	v.register(fs)
	asJSON := fs.Bool("json", false, "print a JSON document instead of text")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; usage: connform auth status [-json]", fs.Args())
	}
	cfg := c.loadConfig(v, nil)
	if cfg == nil {
		return exitError(1)
	}
	store, desc, err := c.openStore()
	if err != nil {
		return fmt.Errorf("opening the token store: %w", err)
	}
	now := c.now()
	rep := statusReport{FormatVersion: 1, Store: desc, Accounts: []statusAccount{}}
	// As plan reads it: with what connform learnt of each authority.
	grants := auth.NewGrantReader(store)
	for _, g := range groupByKey(cfg.Connections) {
		authority, client, account := auth.SplitKey(g.key)
		a := statusAccount{Key: g.key, Authority: authority, ClientID: client, Account: account}
		grant, err := store.Get(g.key)
		if err == nil {
			grant = grants.Grant(g.key)
		} else {
			// One unreadable entry must not hide the others.
			grant = nil
			a.RefreshDropped = "the stored entry cannot be read (" + err.Error() + "); connform logout fixes it"
		}
		if grant != nil {
			a.SignedInAs = grant.Account
			a.RefreshToken = grant.RefreshToken != ""
			a.RefreshDropped = grant.RefreshDropped
			a.RefreshPerOrg, _, _ = strings.Cut(grant.RefreshPerResource, ": ")
		}
		for _, cc := range g.conns {
			a.Connections = append(a.Connections, connectionStatus(cc, grant, now))
		}
		rep.Accounts = append(rep.Accounts, a)
	}
	return newAuthStatusView(*asJSON, c.io).AuthStatus(rep, now)
}

// statusStates names auth's needs in auth status.
var statusStates = map[auth.NeedKind]string{
	auth.NeedNothing:      tokenValid,
	auth.NeedRefresh:      tokenRefreshable,
	auth.NeedClientSecret: tokenAppSecret,
	auth.NeedCredential:   tokenCredential,
	auth.NeedInteractive:  tokenSignIn,
}

// connectionStatus tells what apply would do for cc's token with grant:
// auth decides (auth.Decide), exactly as for plan and apply, without
// asking anyone.
func connectionStatus(cc *config.Connection, grant *auth.Grant, now time.Time) statusConnection {
	ac := plan.AuthConn(cc)
	n := auth.Decide(ac, grant, now, auth.Situation{})
	s := statusConnection{Address: cc.Addr, Org: cc.URL, State: statusStates[n.Kind], Reason: n.Text(), ReasonCode: n.Code}
	if grant != nil && grant.Access[cc.URL] != nil {
		s.Expiry = grant.Access[cc.URL].Expiry
	}
	return s
}

// keyGroup is the connections served by one token store key.
type keyGroup struct {
	key   string
	conns []*config.Connection
}

// groupByKey groups conns by account key, in the order of first appearance.
func groupByKey(conns []*config.Connection) []*keyGroup {
	var out []*keyGroup
	idx := map[string]*keyGroup{}
	for _, cc := range conns {
		k := plan.TokenKey(cc)
		g := idx[k]
		if g == nil {
			g = &keyGroup{key: k}
			idx[k] = g
			out = append(out, g)
		}
		g.conns = append(g.conns, cc)
	}
	return out
}

func needNames(names []string, all bool, cmd string) error {
	switch {
	case all && len(names) > 0:
		return fmt.Errorf("connform %s: give connection names or -all, not both", cmd)
	case !all && len(names) == 0:
		return fmt.Errorf("connform %s: name the connections (block name or address, e.g. crm or connection.crm[\"sales\"]), or use -all", cmd)
	}
	return nil
}

// selectConnections picks the connections named (in any spelling
// addrs.ParseTarget reads; a block name stands for all its instances), or
// all of them.
func selectConnections(conns []*config.Connection, names []string, all bool) ([]*config.Connection, error) {
	if all {
		return conns, nil
	}
	matched := map[string]bool{}
	var out []*config.Connection
	for _, cc := range conns {
		if matchesAny(cc.Addr, names, matched) {
			out = append(out, cc)
		}
	}
	for _, n := range names {
		if !matched[n] {
			var known []string
			for _, cc := range conns {
				known = append(known, cc.Addr)
			}
			return nil, notNamed(n, fmt.Sprintf("no connection named %q in the configuration; the connections are: %s", n, strings.Join(known, ", ")))
		}
	}
	return out, nil
}

// matchesAny reports whether the connection at addr is one of names,
// recording in matched which names matched something.
func matchesAny(addr string, names []string, matched map[string]bool) bool {
	inst, err := addrs.ParseInstance(addr)
	if err != nil {
		return false
	}
	hit := false
	for _, n := range names {
		if t, err := addrs.ParseTarget(n); err == nil && t.Matches(inst) {
			matched[n] = true
			hit = true
		}
	}
	return hit
}

// notNamed is the error for a name that matched nothing: why it is not an
// address at all when it is not, else msg.
func notNamed(name, msg string) error {
	if _, err := addrs.ParseTarget(name); err != nil {
		return err
	}
	return errors.New(msg)
}

func addrList(conns []*config.Connection) string {
	addrs := make([]string, len(conns))
	for i, cc := range conns {
		addrs[i] = cc.Addr
	}
	return strings.Join(addrs, ", ")
}
