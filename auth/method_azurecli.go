package auth

import (
	"context"
	"time"
)

// azureCLI reuses the Azure CLI's sign-in (az login): the token is the
// CLI user's, got by running az; connform's own app is not involved.
type azureCLI struct{}

func (azureCLI) AppOnly() bool { return false }
func (azureCLI) Name() string  { return MethodAzureCLI }

// Key makes each credential its own account.
func (m azureCLI) Key(c Conn) string    { return Key(c.TokenURL, c.ClientID, m.Name()) }
func (azureCLI) Invalidators() []string { return nil }
func (azureCLI) source() string         { return "from the Azure CLI's sign-in (az login)" }

func (m azureCLI) Need(c Conn, g *Grant, now time.Time) Need {
	return appNeed(NeedCredential, m.Name(), c, g, now)
}

func (m azureCLI) Silent(ctx context.Context, env *Env, c Conn, _ *Grant) (*Result, error) {
	return credentialSilent(ctx, env, m.Name(), c)
}

func (azureCLI) SignIn(context.Context, *Env, Conn, Need) (*Result, error) {
	return nil, errNotInteractive
}
