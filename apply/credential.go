package apply

import (
	"context"
	"fmt"

	"connform/auth"
	"connform/config"
)

// credentialToken gets c's token from its Entra-native credential
// (authentication_method azure_cli, managed_identity, workload_identity or
// client_certificate) through azidentity. No refresh token is involved and
// no browser is ever opened; the access token is cached in the store like
// any other, so a second run within its lifetime asks nobody. It runs with
// the key's group lock held.
func (r *runner) credentialToken(ctx context.Context, c *config.Connection, key string, grant *auth.Grant, p auth.Params) (string, string, error) {
	opt := auth.CredentialOptions{
		CertificatePath:     c.CertificatePath,
		CertificatePassword: c.CertificatePassword,
		FederatedTokenFile:  c.FederatedTokenFile,
		TenantID:            c.TenantID,
	}
	if r.opt.Flow != nil {
		opt.HTTPClient = r.opt.Flow.HTTPClient
	}
	cred, err := auth.NewCredential(c.AuthenticationMethod, p, opt)
	if err != nil {
		return "", "", fmt.Errorf("%s: preparing the credential failed: %w", c.Addr, err)
	}
	res, err := auth.CredentialToken(ctx, c.AuthenticationMethod, cred, c.Scopes)
	if err != nil {
		// Not authError: auth.CredentialError already explains Entra's
		// codes for the method (a certificate, a federated token), where
		// the OAuth app's explanations (secrets, redirects) do not apply.
		return "", "", fmt.Errorf("%s: getting a token failed: %w", c.Addr, err)
	}
	return r.save(c, key, grant, res)
}
