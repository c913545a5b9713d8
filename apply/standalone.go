package apply

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"connform/config"
	"connform/plan"
)

// Token gets an access token for one connection outside a run, the way
// apply would (cached, client credentials, refresh, and a browser only when
// opt.Interactive), for commands such as `connform token` and `preview`.
// It shares the run's logic so that both persist a rotated refresh token
// and explain a needed sign-in the same way. Only Store, Flow, Interactive,
// Now, Events and Log of opt are used. It returns the token and the account.
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
	r := &runner{opt: opt, groups: map[string]*sync.Mutex{}}
	return r.token(ctx, c, plan.TokenKey(c), false)
}
