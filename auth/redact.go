package auth

import (
	"net/http"

	"connform/internal/redact"
)

// client is the HTTP client of every token request a flow sends. Its
// transport removes the secrets of each request (client secret, assertion,
// refresh token, code, verifier, password, device code) from the answer
// before x/oauth2 or this package parse it, so an endpoint that echoes the
// request cannot put them into an *Error, a log line or stderr, whatever
// the shape of its answer (JSON or form, 4xx or a 200 carrying error).
func (f *Flow) client() *http.Client { return redactingClient(f.HTTPClient) }

// redactingClient returns c (http.DefaultClient when nil) with its
// transport wrapped by redact.Transport.
func redactingClient(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cc := *c
	cc.Transport = redact.Transport(c.Transport)
	return &cc
}
