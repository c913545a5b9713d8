package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"

	"connform/addrs"
	"connform/auth"
	"connform/config"
	"connform/dynamics"
	"connform/plan"
)

// token, entities and preview are about one connection, and a large
// estate has 10,000: evaluating every one of them for each `connform token
// NAME` would make a script's every call cost the whole configuration. So
// a connection they evaluated is kept in config's evaluation cache (no
// secret in it), and the next call serves it from there when nothing it
// was made from changed and the token store holds a valid token for it: no
// evaluation of other connections, no network. Anything else (no entry, a
// token to refresh, which needs the secret) takes the full way.

// cachedSession returns the session the cache can serve, or nil.
func (c *cli) cachedSession(name string, f connFlags, applied bool) *session {
	t, err := addrs.ParseTarget(name)
	if err != nil {
		return nil
	}
	opts := config.LoadOptions{VarArgs: f.vars.args, Env: c.env}
	key, err := config.CacheKey(".", opts, version)
	if err != nil {
		return nil
	}
	e, ok := config.ReadCache(".", key, t.Instance.String(), c.env)
	if !ok {
		return nil
	}
	// An entry checked as applied serves every command; one that was not
	// serves only those that do not ask.
	if d := stateDigest(e.StatePath); e.Extra != "applied "+d && (applied || e.Extra != "state "+d) {
		return nil
	}
	conn := e.Conn
	org, err := dynamics.ParseOrgURL(conn.URL)
	if err != nil {
		return nil
	}
	c.storeChoice = auth.Choice{Store: e.TokenStore, Where: e.TokenStoreWhere}
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
	log.Debug("connection from the evaluation cache", "address", conn.Addr, "expires", at.Expiry)
	return &session{
		conn: conn, org: org, token: at.Token, account: g.Account,
		client:  &dynamics.Client{HTTP: c.httpClientFor(log), UserAgent: "connform/" + version},
		refused: func() error { return (&auth.Source{Store: store}).DropAccess(ac) },
	}
}

// cacheSession records a connection the full way evaluated and checked, so
// that the next command about it can be served by cachedSession. What was
// checked goes with it: token refuses a connection the configuration would
// replace (applied), which depends on the state too, so the entry holds
// the state's digest and whether that check was made against it.
func (c *cli) cacheSession(cfg *config.Config, conn *config.Connection, f connFlags, applied bool) {
	key, err := config.CacheKey(".", config.LoadOptions{VarArgs: f.vars.args, Env: c.env}, version)
	if err == nil {
		err = config.WriteCache(cfg, key, conn, c.storeChoice.Where, cacheCheck(cfg.Settings.StatePath, applied))
	}
	if err != nil {
		// The cache only saves time; a command does not fail for it.
		c.logger().Debug("evaluation cache not written", "address", conn.Addr, "error", err.Error())
	}
}

// cacheCheck says what an entry was checked against: the state's content,
// and whether the connection was found to be as apply made it (the
// "applied" cachedSession requires).
func cacheCheck(statePath string, applied bool) string {
	if applied {
		return "applied " + stateDigest(statePath)
	}
	return "state " + stateDigest(statePath)
}

// stateDigest identifies the state file's content: a digest of its bytes,
// which costs far less than decoding it.
func stateDigest(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "none"
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
