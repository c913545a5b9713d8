package apply

import (
	"context"

	"connform/auth"
	"connform/config"
	"connform/plan"
)

// newSource is the run's token source: every token of the run comes from
// it, so the sequence cached → silent → interactive, the rotation of
// refresh tokens and the one-sign-in-per-account rule live in auth alone.
func newSource(opt Options) *auth.Source {
	return &auth.Source{
		Store: opt.Store, Flow: opt.Flow, Interactive: opt.Interactive, Now: opt.Now, Log: opt.Log,
		Progress: func(p auth.Progress) {
			opt.Events(Event{Addr: p.Addr, Kind: progressKinds[p.Kind], Message: p.Message})
		},
	}
}

var progressKinds = map[auth.ProgressKind]EventKind{
	auth.ProgressRefreshing:  EventRefreshing,
	auth.ProgressSigningIn:   EventSigningIn,
	auth.ProgressDeviceCode:  EventDeviceCode,
	auth.ProgressPlanNotKept: EventPlanNotKept,
	auth.ProgressWaiting:     EventWaiting,
}

// token gets c's access token the way the plan's change said (nil: no plan).
func (r *runner) token(ctx context.Context, c *config.Connection, ch *plan.Change) (auth.Token, error) {
	var planned *auth.Need
	if ch != nil {
		n := ch.Auth.Need()
		planned = &n
	}
	return r.src.Token(ctx, plan.AuthConn(c), planned)
}
