package apply

import (
	"context"

	"connform/config"
)

// Token gets an access token for one connection outside a run, the way
// apply would (cached, silent, and a sign-in only when opt.Interactive),
// for commands such as `connform token` and `preview`. Only Store, Flow,
// Interactive, Now, Events and Log of opt are used. It returns the token
// and the account.
func Token(ctx context.Context, c *config.Connection, opt Options) (token, account string, err error) {
	opt.defaults()
	r := &runner{opt: opt, src: newSource(opt)}
	t, err := r.token(ctx, c, nil)
	return t.AccessToken, t.Account, err
}
