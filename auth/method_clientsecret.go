package auth

import (
	"context"
	"time"
)

// clientSecret is the app signing in as itself with its secret (client
// credentials): silent, never a person.
type clientSecret struct{}

func (clientSecret) Name() string           { return GrantClientCredentials }
func (clientSecret) Key(c Conn) string      { return Key(c.TokenURL, c.ClientID, "app") }
func (clientSecret) AppOnly() bool          { return true }
func (clientSecret) Invalidators() []string { return []string{"client_secret"} }

func (m clientSecret) Need(c Conn, g *Grant, now time.Time) Need {
	return appNeed(NeedClientSecret, m.Name(), c, g, now)
}

func (clientSecret) Silent(ctx context.Context, env *Env, c Conn, _ *Grant) (*Result, error) {
	res, err := env.Flow.ClientCredentials(ctx, c.params())
	if err != nil {
		return nil, explain(c, "signing in with the client secret", err)
	}
	res.Account = "app"
	return res, nil
}

func (clientSecret) SignIn(context.Context, *Env, Conn, Need) (*Result, error) {
	return nil, errNotInteractive
}
