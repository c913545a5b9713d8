package auth

import (
	"context"
	"time"
)

// managedIdentity is the Azure resource's own identity (system-assigned,
// or user-assigned when client_id is set), from the IMDS or App Service
// endpoint.
type managedIdentity struct{}

func (managedIdentity) AppOnly() bool { return true }
func (managedIdentity) Name() string  { return MethodManagedIdentity }

// Key makes each credential its own account.
func (m managedIdentity) Key(c Conn) string    { return Key(c.TokenURL, c.ClientID, m.Name()) }
func (managedIdentity) Invalidators() []string { return nil }
func (managedIdentity) source() string         { return "from the managed identity endpoint" }

func (m managedIdentity) Need(c Conn, g *Grant, now time.Time) Need {
	return appNeed(NeedCredential, m.Name(), c, g, now)
}

func (m managedIdentity) Silent(ctx context.Context, env *Env, c Conn, _ *Grant) (*Result, error) {
	return credentialSilent(ctx, env, m.Name(), c)
}

func (managedIdentity) SignIn(context.Context, *Env, Conn, Need) (*Result, error) {
	return nil, errNotInteractive
}
