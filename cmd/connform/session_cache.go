package main

import (
	"fmt"
	"os"

	"connform/addrs"
	"connform/auth"
	"connform/config"
	"connform/dynamics"
	"connform/plan"
	"connform/state"
)

// token, entities, preview and export are about one connection, and a
// large estate has 10,000: evaluating every one of them for each
// `connform token NAME` would make a script's every call cost the whole
// configuration. So a connection they evaluated is kept in config's
// evaluation cache (no secret in it), and the next call serves it from
// there when nothing it was made from changed (and, for a token, the token
// store holds a valid one for it): no evaluation of other connections, no
// network. Anything else (no entry, a token to refresh or a secret to
// export, which need the secret) takes the full way.

// cacheFacts is what a cache entry was checked against: the state's
// content, whether the state records the connection, and whether token's
// check that the configuration would not replace it was made.
type cacheFacts struct {
	digest   string
	recorded bool
	applied  bool
}

func (f cacheFacts) String() string {
	return fmt.Sprintf("recorded=%t applied=%t state=%s", f.recorded, f.applied, f.digest)
}

// cachedConnection returns the cached evaluation of name and what it was
// checked against, when it still holds for the inputs and the state.
func (c *cli) cachedConnection(name string, vars varFlags) (*config.CachedConnection, cacheFacts, bool) {
	t, err := addrs.ParseTarget(name)
	if err != nil {
		return nil, cacheFacts{}, false
	}
	key, err := config.CacheKey(".", config.LoadOptions{VarArgs: vars.args, Env: c.env}, version)
	if err != nil {
		return nil, cacheFacts{}, false
	}
	e, ok := config.ReadCache(".", key, t.Instance.String(), c.env)
	if !ok {
		return nil, cacheFacts{}, false
	}
	d := stateDigest(e.StatePath)
	for _, f := range []cacheFacts{{d, false, false}, {d, true, false}, {d, false, true}, {d, true, true}} {
		if e.Extra == f.String() {
			c.storeChoice = auth.Choice{Store: e.TokenStore, Where: e.TokenStoreWhere}
			c.logger().Debug("connection from the evaluation cache", "address", e.Conn.Addr)
			return e, f, true
		}
	}
	return nil, cacheFacts{}, false
}

// cacheConnection records a connection the full way evaluated, with what
// it was checked against, for cachedConnection.
func (c *cli) cacheConnection(cfg *config.Config, conn *config.Connection, vars varFlags, applied bool) {
	f := cacheFacts{digest: stateDigest(cfg.Settings.StatePath), applied: applied}
	st, err := state.NewLocal(cfg.Settings.StatePath).Read()
	f.recorded = err == nil && st.Lookup(conn.Addr) != nil
	key, err := config.CacheKey(".", config.LoadOptions{VarArgs: vars.args, Env: c.env}, version)
	if err == nil {
		err = config.WriteCache(cfg, key, conn, c.storeChoice.Where, f.String())
	}
	if err != nil {
		// The cache only saves time; a command does not fail for it.
		c.logger().Debug("evaluation cache not written", "address", conn.Addr, "error", err.Error())
	}
}

// cachedSession returns the session the cache can serve, or nil. applied
// asks for a connection checked to be as apply made it (token).
func (c *cli) cachedSession(name string, f connFlags, applied bool) *session {
	e, facts, ok := c.cachedConnection(name, f.vars)
	if !ok || applied && !facts.applied {
		return nil
	}
	conn := e.Conn
	org, err := dynamics.ParseOrgURL(conn.URL)
	if err != nil {
		return nil
	}
	store, err := c.tokenStore()
	if err != nil {
		return nil
	}
	g, err := store.Get(plan.TokenKey(conn))
	if err != nil || g == nil {
		return nil
	}
	// auth decides, as for apply's token step: only a stored token that
	// serves as it is lets the cache skip the full way.
	ac := plan.AuthConn(conn)
	if need := auth.Decide(ac, g, c.now(), auth.Situation{}); need.Kind != auth.NeedNothing {
		return nil
	}
	at := g.Access[conn.URL]
	log := c.logger()
	log.Debug("token from the store", "address", conn.Addr, "expires", at.Expiry)
	return &session{
		conn: conn, org: org, token: at.Token, account: g.Account,
		client:  &dynamics.Client{HTTP: c.httpClientFor(log), UserAgent: "connform/" + version, OnRetry: c.notifyRetry},
		refused: func() error { return (&auth.Source{Store: store}).DropAccess(ac) },
	}
}

// stateDigest identifies the state file as it is now by its size and
// modification time, as build caches identify files: connform replaces the
// state by a rename (a new file, a new time), and an edit by hand changes
// the time too. Reading and hashing the file instead grew with the number
// of connections (6 ms at 10,000) in every warm token command.
func stateDigest(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "none"
	}
	return fmt.Sprintf("%d-%d", fi.Size(), fi.ModTime().UnixNano())
}
