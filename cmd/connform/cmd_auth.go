package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

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
	authTimeout := fs.Duration("auth-timeout", 5*time.Minute, "how long to wait for a browser sign-in")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: connform login [options] NAME... | -all\n\nSigns in afresh for the accounts behind the named connections (block\nname or address), replacing their stored tokens. Options:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError(1)
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
	flow := &auth.Flow{
		HTTPClient: c.httpClientFor(log),
		Timeout:    *authTimeout,
		Now:        c.now,
		Opener:     c.browser(),
		Notify:     c.notifySignIn,
		OnRetry:    c.notifyRetry,
	}
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
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: connform logout [options] NAME... | -all\n\nForgets the stored tokens (the whole account's grant) behind the named\nconnections. Options:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError(1)
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
		if _, err := os.Stat(filepath.Join(c.connformHome(), "tokens.json")); err == nil {
			c.storeChoice = auth.Choice{Store: "plaintext"}
		}
	} else {
		statePath = cfg.Settings.StatePath
	}

	// Connections removed from the configuration may still hold tokens: the
	// state remembers which key served them.
	type target struct {
		key   string
		addrs []string
	}
	var targets []*target
	byKey := map[string]*target{}
	add := func(key, addr string) {
		if key == "" {
			return
		}
		t := byKey[key]
		if t == nil {
			t = &target{key: key}
			byKey[key] = t
			targets = append(targets, t)
		}
		if !slices.Contains(t.addrs, addr) {
			t.addrs = append(t.addrs, addr)
		}
	}
	st, stErr := state.NewLocal(statePath).Read()
	var prior []*state.Connection
	if st != nil {
		prior = st.Connections
	}
	matched := map[string]bool{}
	for _, cc := range cfg.Connections {
		if *all || matchesAny(cc.Addr, cc.Name, fs.Args(), matched) {
			add(plan.TokenKey(cc), cc.Addr)
		}
	}
	for _, sc := range prior {
		if *all || matchesAny(sc.Addr, sc.Name, fs.Args(), matched) {
			add(sc.TokenKey, sc.Addr)
		}
	}
	for _, n := range fs.Args() {
		if !matched[n] {
			return fmt.Errorf("no connection named %q in the configuration or the state; connform state list and connform validate show the names", n)
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
		g, getErr := store.Get(t.key)
		if err := store.Delete(t.key); err != nil {
			failed++
			c.errorf("logging out %s (for %s): %v", accountPhrase(t.key), strings.Join(t.addrs, ", "), err)
			continue
		}
		what := "forgot its tokens"
		if g == nil && getErr == nil {
			what = "no tokens were stored"
		}
		fmt.Fprintf(c.io.Out, "Logged out %s (for %s): %s.\n", accountPhrase(t.key), strings.Join(t.addrs, ", "), what)
	}
	if failed > 0 {
		return exitError(1)
	}
	return nil
}

// setTokenFileAside handles a token store that cannot even be opened under
// logout -all: the encrypted file is moved aside (not deleted: with the
// right passphrase it may still be readable), which logs every account out.
func (c *cli) setTokenFileAside(openErr error) error {
	if c.store != nil || c.getenv("CONNFORM_TOKEN_STORE") == "keyring" || c.getenv("CONNFORM_TOKEN_STORE") == "memory" {
		return openErr
	}
	// auth.Open's file store lives here.
	path := filepath.Join(c.connformHome(), "tokens.enc")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return openErr
	}
	aside := path + ".unreadable"
	if err := os.Rename(path, aside); err != nil {
		return fmt.Errorf("%v\nand it cannot be moved aside: %v", openErr, err)
	}
	fmt.Fprintf(c.io.ErrOut, "%s %v\n", c.io.Paint("yellow", "Warning:"), openErr)
	fmt.Fprintf(c.io.Out, "Logged out every account: the unreadable token file was moved to %s (delete it when you no longer need it).\n", aside)
	return nil
}

// cmdAuth dispatches the auth subcommands.
func (c *cli) cmdAuth(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "status" {
		fmt.Fprintln(c.io.ErrOut, "Usage: connform auth status [-json]\n\nShows, per account and connection, what the token store holds and whether\napply can get a token silently. It never touches the network.")
		if len(args) > 0 && (args[0] == "-help" || args[0] == "-h") {
			return nil
		}
		return exitError(1)
	}
	return c.cmdAuthStatus(ctx, args[1:])
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
	Account        string             `json:"account"`
	SignedInAs     string             `json:"signed_in_as,omitempty"`
	RefreshToken   bool               `json:"refresh_token"`
	RefreshDropped string             `json:"refresh_dropped,omitempty"`
	Connections    []statusConnection `json:"connections"`
}

type statusConnection struct {
	Address string    `json:"address"`
	Org     string    `json:"org"`
	State   string    `json:"state"` // valid | refreshable | client-credentials | credential | needs-sign-in
	Expiry  time.Time `json:"expiry,omitzero"`
	Reason  string    `json:"reason"`
}

func (c *cli) cmdAuthStatus(_ context.Context, args []string) error {
	fs := c.flags("auth status")
	var v varFlags
	v.register(fs)
	asJSON := fs.Bool("json", false, "print a JSON document instead of text")
	if err := fs.Parse(args); err != nil {
		return exitError(1)
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
	for _, g := range groupByKey(cfg.Connections) {
		authority, client, account := splitKey(g.key)
		a := statusAccount{Key: g.key, Authority: authority, ClientID: client, Account: account}
		grant, err := store.Get(g.key)
		if err != nil {
			// One unreadable entry must not hide the others.
			grant = nil
			a.RefreshDropped = "the stored entry cannot be read (" + err.Error() + "); connform logout fixes it"
		}
		if grant != nil {
			a.SignedInAs = grant.Account
			a.RefreshToken = grant.RefreshToken != ""
			a.RefreshDropped = grant.RefreshDropped
		}
		for _, cc := range g.conns {
			a.Connections = append(a.Connections, connectionStatus(cc, grant, now))
		}
		rep.Accounts = append(rep.Accounts, a)
	}
	return newAuthStatusView(*asJSON, c.io).AuthStatus(rep, now)
}

// connectionStatus tells what apply would do for cc's token with grant, the
// way apply decides it (apply/token.go), without asking anyone.
func connectionStatus(cc *config.Connection, grant *auth.Grant, now time.Time) statusConnection {
	s := statusConnection{Address: cc.Addr, Org: cc.URL}
	var at *auth.AccessToken
	if grant != nil {
		at = grant.Access[cc.URL]
	}
	if at != nil {
		s.Expiry = at.Expiry
	}
	scopesOK := at != nil && auth.ScopesCover(at.Scopes, cc.Scopes)
	switch {
	case at.Valid(now) && scopesOK:
		s.State, s.Reason = tokenValid, "access token valid"
	case config.IsNativeMethod(cc.AuthenticationMethod):
		s.State, s.Reason = tokenCredential, "silent when needed, "+plan.CredentialSource[cc.AuthenticationMethod]
		if at != nil {
			s.Reason = "access token expired; " + s.Reason
		}
	case cc.GrantType == config.GrantClientCredentials:
		s.State, s.Reason = tokenAppSecret, "the app gets a token with its client secret when needed"
		if at != nil {
			s.Reason = "access token expired; " + s.Reason
		}
	case grant != nil && grant.RefreshToken != "" && (at == nil || scopesOK):
		s.State = tokenRefreshable
		if at == nil {
			s.Reason = "no token for this org yet; the account's refresh token gets one silently"
		} else {
			s.Reason = "access token expired; the account's refresh token renews it silently"
		}
	default:
		s.State = tokenSignIn
		switch {
		case grant == nil:
			s.Reason = "no token (never signed in, or logged out)"
		case at != nil && !scopesOK:
			s.Reason = "the scopes changed since the last sign-in"
		case grant.RefreshDropped != "":
			when, _, _ := strings.Cut(grant.RefreshDropped, ": ")
			s.Reason = "the account's refresh token was refused at " + when
		case at == nil:
			s.Reason = "no token for this org and no refresh token (is offline_access among the scopes?)"
		default:
			s.Reason = "access token expired and there is no refresh token (is offline_access among the scopes?)"
		}
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

// splitKey reads auth.Key's "authority|client|account".
func splitKey(key string) (authority, client, account string) {
	parts := strings.SplitN(key, "|", 3)
	if len(parts) != 3 {
		return key, "", ""
	}
	return parts[0], parts[1], parts[2]
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

// selectConnections picks the connections named (by block name, by address,
// or by address without "connection."), or all of them.
func selectConnections(conns []*config.Connection, names []string, all bool) ([]*config.Connection, error) {
	if all {
		return conns, nil
	}
	matched := map[string]bool{}
	var out []*config.Connection
	for _, cc := range conns {
		if matchesAny(cc.Addr, cc.Name, names, matched) {
			out = append(out, cc)
		}
	}
	for _, n := range names {
		if !matched[n] {
			var known []string
			for _, cc := range conns {
				known = append(known, cc.Addr)
			}
			return nil, fmt.Errorf("no connection named %q in the configuration; the connections are: %s", n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// matchesAny reports whether a connection (addr, block name) is one of
// names, recording in matched which names matched something. A block name
// stands for all its instances.
func matchesAny(addr, name string, names []string, matched map[string]bool) bool {
	hit := false
	for _, n := range names {
		if a := normalAddr(n); a == addr || a == "connection."+name {
			matched[n] = true
			hit = true
		}
	}
	return hit
}

// normalAddr turns what a user types into an address: crm, connection.crm,
// crm["sales"], or crm[sales] as a shell leaves it when the quotes were not
// escaped.
func normalAddr(name string) string {
	addr := strings.TrimSpace(name)
	if !strings.HasPrefix(addr, "connection.") {
		addr = "connection." + addr
	}
	return plan.QuoteKey(addr)
}

func addrList(conns []*config.Connection) string {
	addrs := make([]string, len(conns))
	for i, cc := range conns {
		addrs[i] = cc.Addr
	}
	return strings.Join(addrs, ", ")
}
