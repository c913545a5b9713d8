package apply

import (
	"context"
	"log/slog"
	"time"

	"connform/config"
)

// Token gets an access token for one connection outside a run, the way
// apply would (cached, silent, and a sign-in only when opt.Interactive),
// for commands such as `connform token` and `preview`. Only Store, Flow,
// Interactive, Now, Events and Log of opt are used. It returns the token
// and the account.
func Token(ctx context.Context, c *config.Connection, opt Options) (token, account string, err error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Events == nil {
		opt.Events = func(Event) {}
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	r := &runner{opt: opt, src: newSource(opt)}
	t, err := r.token(ctx, c, nil)
	return t.AccessToken, t.Account, err
}
