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
// retried. Secrets (client secrets, assertions, tokens, codes, PKCE
// verifiers, passwords, device codes) appear in no error: every token
// request goes through internal/redact's transport, which scrubs what the
// request carried from the answer before it is parsed, whatever the answer's
// shape; and whatever the peer wrote is escaped (internal/safetext) before
// it becomes part of an *Error.
//
// Open chooses the store: the OS keyring when one answers, else an AES-GCM
// encrypted file whose key comes from CONNFORM_TOKEN_PASSPHRASE (through
// scrypt) or from a random key in the Linux kernel keyring (through HKDF).
// Tokens are written in clear only when the configuration names
// token_store = "plaintext", after a warning. A token file is decoded once
// per command; a rotated refresh token is written before Put returns, new
// access tokens when the command calls Flush. A damaged file is a
// *FileError naming the file and the recovery command, and its parameters
// are bounded before use, so no file can crash, hang or exhaust a command.
package auth
