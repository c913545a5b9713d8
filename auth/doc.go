// Package auth owns how connform obtains and keeps tokens: OAuth flows on
// golang.org/x/oauth2 (authorization code with PKCE on a one-shot loopback
// listener, client credentials, refresh with rotation) and the token store
// (OS keyring, encrypted file, in-memory for tests).
//
// It knows nothing of plans or HCL: callers describe a connection as a Conn
// (endpoints, client id, secret, scopes, method, login hint, org) and get
// tokens back.
//
// Sign-in is a type. Each way of getting a token is a Method in a file of
// its own (method_*.go, as azidentity lays out its credentials), registered
// by its grant_type or authentication_method name in registry.go, the only
// place in auth that spells those names. A Method answers its token store
// key, whether it is app-only, which inputs invalidate a stored token, and
// what getting a token takes now (Need: nothing, refresh, client secret,
// credential or interactive, with a stable ReasonCode whose words Need.Text
// gives). Decide is that one decision: plan predicts with it, `auth status`
// shows it, and Source, in the role of x/oauth2's ReuseTokenSource, carries
// it out for every command (cached → silent → interactive, the rotated
// refresh token saved first, one key at a time). Adding a method is one file
// plus its line in the registry.
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
// What connform learns of a provider rather than an account (that its
// refresh tokens serve one org each) is kept per authority, under a
// reserved store key (AuthorityKey) beside the account keys; GrantReader
// and Source read it once per authority and fold it into each account's
// grant before deciding.
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
