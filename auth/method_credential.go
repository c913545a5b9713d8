package auth

import (
	"context"
	"fmt"
	"time"
)

// credential is an Entra-native method: an azidentity credential gets the
// token, silently; none ever asks a person. Each one is a value in a file
// of its own (method_azurecli.go, ...).
type credential struct {
	name         string
	appOnly      bool
	invalidators []string
	// source says where the token comes from, in reasons shown to users.
	source string
}

func (m credential) Name() string { return m.name }

// Key makes each credential its own account.
func (m credential) Key(c Conn) string      { return Key(c.TokenURL, c.ClientID, m.name) }
func (m credential) AppOnly() bool          { return m.appOnly }
func (m credential) Invalidators() []string { return m.invalidators }

func (m credential) Need(c Conn, g *Grant, now time.Time) Need {
	return appNeed(NeedCredential, m.name, c, g, now)
}

// Silent gets the token through azidentity. No refresh token is involved
// and no browser is opened.
func (m credential) Silent(ctx context.Context, env *Env, c Conn, _ *Grant) (*Result, error) {
	opt := CredentialOptions{
		CertificatePath:     c.CertificatePath,
		CertificatePassword: c.CertificatePassword,
		FederatedTokenFile:  c.FederatedTokenFile,
		TenantID:            c.TenantID,
	}
	if env.Flow != nil {
		opt.HTTPClient = env.Flow.HTTPClient
	}
	cred, err := NewCredential(m.name, c.params(), opt)
	if err != nil {
		return nil, fmt.Errorf("%s: preparing the credential failed: %w", c.Addr, err)
	}
	res, err := CredentialToken(ctx, m.name, cred, c.Scopes)
	if err != nil {
		// Not explain: CredentialError already explains Entra's codes for
		// the method, where the OAuth app's advice does not apply.
		return nil, fmt.Errorf("%s: getting a token failed: %w", c.Addr, err)
	}
	return res, nil
}

func (credential) SignIn(context.Context, *Env, Conn, Need) (*Result, error) {
	return nil, errNotInteractive
}

// credentialSource says where an Entra-native credential's token comes
// from, for reasons shown to the user.
func credentialSource(method string) string {
	if m, ok := methods[method].(credential); ok {
		return m.source
	}
	return "from " + method
}
