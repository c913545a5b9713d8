// Package auth owns how connform obtains and keeps tokens: OAuth flows on
// golang.org/x/oauth2 (authorization code with PKCE on a one-shot loopback
// listener, client credentials, refresh with rotation) and the token store
// (OS keyring, encrypted file, in-memory for tests).
//
// It knows nothing of plans or HCL: callers hand it endpoints, client ids and
// scopes, and get tokens back.
//
// Failures of the authorization server come back as *Error, whose methods
// (SignInAgain, InteractionRequired, ConfigError, Transient, Hint) tell the
// caller what to do next; transient token endpoint failures are already
// retried. Secrets (client secrets, tokens, codes, PKCE verifiers) appear in
// no error: a token endpoint body that is not Entra's JSON is never shown.
//
// Open chooses the store: the OS keyring when one answers, else an AES-GCM
// encrypted file whose key comes from CONNFORM_TOKEN_PASSPHRASE or from a
// random key in the Linux kernel keyring. Tokens are written in clear only
// when the configuration names token_store = "plaintext", after a warning.
package auth
