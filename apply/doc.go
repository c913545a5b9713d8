// Package apply owns carrying out a plan: a parallel walk of its changes,
// obtaining tokens (silently where it can, one interactive sign-in per
// account at most), verifying each against its org, writing the library
// entry and persisting the state after every connection.
//
// It neither decodes HCL nor formats output: progress leaves as Events for
// the command layer's views.
package apply
