// Package plan owns the diff of a configuration against the state and the
// token store's status: an Action for every connection, the reasons for it
// as stable codes, and the authorisation apply will need.
//
// Three forms are kept apart, so each can change without breaking the
// others: the model (model.go) that Make builds and apply carries out; the
// plan file (file.go), a versioned struct of its own that is checked in full
// when read and, before apply trusts it, against a plan made anew
// (verify.go); and the public plan -json document, which belongs to the
// views in cmd/connform. The diff itself is diff.go; the sign-in each change
// needs is auth.go.
//
// It prints nothing and performs nothing; words for reason codes and symbols
// such as "+" or "-/+" belong to the renderers in cmd/connform.
package plan
