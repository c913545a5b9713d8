// Package plan owns the diff of a configuration against the state and the
// token store's status: an Action for every connection, the reason for it,
// and the authorisation apply will need. It also reads and writes plan files.
//
// It prints nothing and performs nothing; symbols such as "+" or "-/+" belong
// to the renderer in cmd/connform.
package plan
