package auth

import (
	"context"
	"time"
)

// workloadIdentity signs the app in with a federated token file, as
// Kubernetes projects it into a pod.
type workloadIdentity struct{}

func (workloadIdentity) AppOnly() bool { return true }
func (workloadIdentity) Name() string  { return MethodWorkloadIdentity }

// Key makes each credential its own account.
func (m workloadIdentity) Key(c Conn) string    { return Key(c.TokenURL, c.ClientID, m.Name()) }
func (workloadIdentity) Invalidators() []string { return []string{"federated_token_file"} }
func (workloadIdentity) source() string         { return "the app signs in with the federated token" }

func (m workloadIdentity) Need(c Conn, g *Grant, now time.Time) Need {
	return appNeed(NeedCredential, m.Name(), c, g, now)
}

func (m workloadIdentity) Silent(ctx context.Context, env *Env, c Conn, _ *Grant) (*Result, error) {
	return credentialSilent(ctx, env, m.Name(), c)
}

func (workloadIdentity) SignIn(context.Context, *Env, Conn, Need) (*Result, error) {
	return nil, errNotInteractive
}
