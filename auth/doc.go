// Package auth owns how connform obtains and keeps tokens: OAuth flows on
// golang.org/x/oauth2 (authorization code with PKCE on a one-shot loopback
// listener, client credentials, refresh with rotation) and the token store
// (OS keyring, encrypted file, in-memory for tests).
//
// It knows nothing of plans or HCL: callers hand it endpoints, client ids and
// scopes, and get tokens back.
package auth
