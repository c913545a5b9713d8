package auth

import (
	"context"
	"time"
)

// clientCertificate signs the app in with its certificate (PEM or PFX).
type clientCertificate struct{}

func (clientCertificate) AppOnly() bool { return true }
func (clientCertificate) Name() string  { return MethodClientCertificate }

// Key makes each credential its own account.
func (m clientCertificate) Key(c Conn) string { return Key(c.TokenURL, c.ClientID, m.Name()) }
func (clientCertificate) Invalidators() []string {
	return []string{"certificate_path", "certificate_password"}
}
func (clientCertificate) source() string { return "the app signs in with its certificate" }

func (m clientCertificate) Need(c Conn, g *Grant, now time.Time) Need {
	return appNeed(NeedCredential, m.Name(), c, g, now)
}

func (m clientCertificate) Silent(ctx context.Context, env *Env, c Conn, _ *Grant) (*Result, error) {
	return credentialSilent(ctx, env, m.Name(), c)
}

func (clientCertificate) SignIn(context.Context, *Env, Conn, Need) (*Result, error) {
	return nil, errNotInteractive
}
