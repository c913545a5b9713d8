package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"connform/addrs"
	"connform/apply"
	"connform/auth"
	"connform/config"
	"connform/dynamics"
	"connform/plan"
)

// The commands people reach for once a connection exists: token, entities,
// preview, export and import. Each names one connection the way plan
// addresses it; the token logic is apply's (apply.Token), so a refresh here
// rotates and persists the refresh token exactly as apply would.

// connFlags are the options of every command that signs in for one
// connection.
type connFlags struct {
	vars        varFlags
	input       bool
	authTimeout time.Duration
}

func (f *connFlags) register(fs *flag.FlagSet) {
	f.vars.register(fs)
	fs.BoolVar(&f.input, "input", true, "allow a browser sign-in; with -input=false a connection that needs one fails saying so")
	fs.DurationVar(&f.authTimeout, "auth-timeout", 5*time.Minute, "how long to wait for a person to sign in (browser or device code)")
}

// session is a configuration, one connection of it, and a token for it.
type session struct {
	conn    *config.Connection
	org     dynamics.Org
	token   string
	account string
	client  *dynamics.Client
	// refused forgets the token when the org refuses it (HTTP 401), so
	// that the next command gets a new one instead of reusing it.
	refused func() error
	// renew gets a new token without a person, once the refused one is
	// forgotten; renewed says the current token is that new one.
	renew   func(ctx context.Context) (string, error)
	renewed bool
}

// call runs fn, which uses s.token. When the org refuses the token (401),
// as apply does: the token is dropped, a new one is had silently, and fn
// runs once more; only then does the refusal stand.
func (s *session) call(ctx context.Context, fn func() error) error {
	err := fn()
	var apiErr *dynamics.APIError
	if err == nil || s.renew == nil || s.renewed || !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		return err
	}
	if s.refused != nil && s.refused() != nil {
		return err
	}
	tok, rerr := s.renew(ctx)
	if rerr != nil {
		return err
	}
	s.token, s.renewed = tok, true
	return fn()
}

// parseConnArgs parses args for a command that takes one connection name,
// which may come before, between or after the options, as people type it.
func (c *cli) parseConnArgs(fs *flag.FlagSet, f *connFlags, args []string, usage string) (string, error) {
	var pos []string
	for {
		if err := c.parse(fs, args); err != nil {
			return "", err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	switch len(pos) {
	case 0:
		return "", fmt.Errorf("no connection named; usage: %s", usage)
	case 1:
		return pos[0], nil
	}
	return "", fmt.Errorf("unexpected arguments %q; usage: %s", pos[1:], usage)
}

// openSession loads the configuration, finds the connection and gets a
// token for it silently where possible. applied refuses a connection whose
// configuration would replace what apply made (another org, app or
// scopes): its token would not be the applied connection's.
func (c *cli) openSession(ctx context.Context, name string, f connFlags, applied bool) (*session, error) {
	s := c.cachedSession(name, f, applied)
	if s == nil {
		var err error
		if s, err = c.openSessionFully(ctx, name, f, applied); err != nil {
			return nil, err
		}
	}
	silent := f
	silent.input = false
	s.renew = func(ctx context.Context) (string, error) {
		again, err := c.openSessionFully(ctx, name, silent, applied)
		if err != nil {
			return "", err
		}
		return again.token, nil
	}
	return s, nil
}

// openSessionFully is openSession without the evaluation cache.
func (c *cli) openSessionFully(ctx context.Context, name string, f connFlags, applied bool) (*session, error) {
	cfg := c.loadConfig(f.vars, nil)
	if cfg == nil {
		return nil, exitError(1)
	}
	conn, err := findConnection(cfg, name)
	if err != nil {
		return nil, err
	}
	if applied {
		if why := replacedSinceApply(cfg, conn, c.now()); why != "" {
			return nil, fmt.Errorf("%s: the configuration would replace this connection (%s since connform apply); run connform plan to see the change and connform apply to make it", conn.Addr, why)
		}
	}
	org, err := dynamics.ParseOrgURL(conn.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", conn.Addr, err)
	}
	store, err := c.tokenStore()
	if err != nil {
		return nil, err
	}
	log := c.logger()
	hc := c.httpClientFor(log)
	flow := c.signInFlow(hc, f.authTimeout, f.input)
	tok, account, err := apply.Token(ctx, conn, apply.Options{
		Store:       store,
		Flow:        flow,
		Log:         log,
		Interactive: f.input,
		Now:         c.now,
		Events:      c.signInProgress,
	})
	if err != nil {
		return nil, err
	}
	c.cacheConnection(cfg, conn, f.vars, applied)
	return &session{
		conn: conn, org: org, token: tok, account: account,
		client:  &dynamics.Client{HTTP: hc, UserAgent: "connform/" + version, OnRetry: c.notifyRetry},
		refused: func() error { return (&auth.Source{Store: store}).DropAccess(plan.AuthConn(conn)) },
	}, nil
}

// findConnection resolves what a user types for one connection, in any
// spelling addrs.ParseTarget reads: sales, connection.sales, crm["dev"],
// crm[dev] or connection.crm["dev"].
func findConnection(cfg *config.Config, name string) (*config.Connection, error) {
	t, err := addrs.ParseTarget(name)
	if err != nil {
		return nil, err
	}
	var matches, all []string
	var found *config.Connection
	for _, c := range cfg.Connections {
		if t.Matches(c.Address()) {
			matches = append(matches, c.Addr)
			found = c
		}
		all = append(all, c.Addr)
	}
	switch {
	case len(matches) == 1 && (!t.All || found.Key == ""):
		return found, nil
	case len(matches) > 0:
		// A for_each block names a set that may grow: which instance is
		// meant must be said, even while there is one.
		return nil, fmt.Errorf("%s has %s (for_each); name one of them: %s", t, count(len(matches), "instance"), strings.Join(matches, ", "))
	case len(all) == 0:
		return nil, fmt.Errorf("no connection %s: the configuration has no connection blocks", t)
	}
	sort.Strings(all)
	return nil, fmt.Errorf("no connection %s in the configuration; it has: %s", t, strings.Join(all, ", "))
}

func (c *cli) cmdToken(ctx context.Context, args []string) error {
	const usage = "connform token [-input=false] NAME"
	fs := c.flags("token")
	var f connFlags
	f.register(fs)
	name, err := c.parseConnArgs(fs, &f, args, usage)
	if err != nil {
		return err
	}
	s, err := c.openSession(ctx, name, f, true)
	if err != nil {
		return err
	}
	// The one place a token is meant for stdout: $(connform token sales).
	// Nothing else goes there.
	fmt.Fprintln(c.io.Out, s.token)
	return nil
}

// apiError words a Web API failure for one connection, with the advice
// that fits a user's or an app's token.
func (s *session) apiError(doing string, err error) error {
	var apiErr *dynamics.APIError
	if errors.As(err, &apiErr) {
		msg := apiErr.Problem()
		if h := apiErr.Hint(plan.AuthConn(s.conn).AppOnly()); h != "" {
			msg += "; " + h
		}
		if apiErr.StatusCode == http.StatusUnauthorized && s.refused != nil && s.refused() == nil {
			if s.renewed {
				msg += "; a new token, had silently, was refused too, and connform dropped it"
			} else {
				msg += "; connform dropped the refused token, so the next command gets a new one"
			}
		}
		return fmt.Errorf("%s: %s failed: %s", s.conn.Addr, doing, msg)
	}
	return fmt.Errorf("%s: %s failed: %w", s.conn.Addr, doing, err)
}

func (c *cli) cmdEntities(ctx context.Context, args []string) error {
	const usage = "connform entities [-json] NAME"
	fs := c.flags("entities")
	var f connFlags
	f.register(fs)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	name, err := c.parseConnArgs(fs, &f, args, usage)
	if err != nil {
		return err
	}
	s, err := c.openSession(ctx, name, f, false)
	if err != nil {
		return err
	}
	var list []dynamics.Entity
	err = s.call(ctx, func() (err error) {
		list, err = s.client.Entities(ctx, s.org, s.token)
		return err
	})
	if err != nil {
		return s.apiError("listing the entities of "+s.org.Root, err)
	}
	return newEntitiesView(*asJSON, c.io).Entities(list)
}

func (c *cli) cmdPreview(ctx context.Context, args []string) error {
	const usage = "connform preview [-entity E] [-top N] [-select a,b] [-filter EXPR] [-json] NAME"
	fs := c.flags("preview")
	var f connFlags
	f.register(fs)
	entity := fs.String("entity", "", "the entity: its logical name (contact) or entity set name (contacts); default: the connection's entity attribute")
	top := fs.Int("top", 10, "how many rows at most; pages are followed until there are this many")
	sel := fs.String("select", "", "columns to show, comma-separated (default: all)")
	filter := fs.String("filter", "", `an OData filter, such as "name eq 'Contoso'"`)
	asJSON := fs.Bool("json", false, "print a JSON array of rows instead of a table")
	name, err := c.parseConnArgs(fs, &f, args, usage)
	if err != nil {
		return err
	}
	if *top < 1 {
		return fmt.Errorf("-top must be at least 1")
	}
	var columns []string
	for _, col := range strings.Split(*sel, ",") {
		if col = strings.TrimSpace(col); col != "" {
			columns = append(columns, col)
		}
	}
	s, err := c.openSession(ctx, name, f, false)
	if err != nil {
		return err
	}
	logical := *entity
	if logical == "" {
		logical = s.conn.Entity
	}
	if logical == "" {
		return fmt.Errorf("%s has no entity attribute: name one with -entity (connform entities %s lists them)", s.conn.Addr, name)
	}
	var ent *dynamics.Entity
	if err := s.call(ctx, func() (err error) {
		ent, err = s.entity(ctx, logical)
		return err
	}); err != nil {
		return fmt.Errorf("%s: %w", s.conn.Addr, err)
	}
	var recs *dynamics.Records
	err = s.call(ctx, func() (err error) {
		recs, err = s.client.Records(ctx, s.org, s.token, dynamics.RecordsQuery{EntitySet: ent.EntitySetName, Top: *top, Select: columns, Filter: *filter})
		return err
	})
	if err != nil {
		return s.apiError("reading "+ent.EntitySetName, err)
	}
	return newPreviewView(*asJSON, c.io).Rows(recs, ent.EntitySetName, s.org.Root)
}
