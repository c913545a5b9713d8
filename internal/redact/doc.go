// Package redact owns removing the secrets connform sent from whatever
// came back. A token endpoint, a proxy or an org may echo a request in its
// error (the whole form, the client secret, the refresh token), and that
// text then travels into error messages and log lines. Rather than trust
// every place that prints, the secrets a request carried are recorded when
// it leaves (Transport) and scrubbed from the answer before anyone parses
// it. It is a package of its own because auth (token requests) and the
// command layer (every request, Web API included) both wrap their HTTP
// clients with it.
package redact
