// Package apply owns carrying out a plan: a parallel walk of its graph of
// changes (plan.Graph: a covered sign-in after the one covering it, a
// reference after what it refers to, deletes in reverse),
// obtaining tokens (silently where it can, one interactive sign-in per
// account at most), verifying each against its org, writing the library
// entry and recording every finished connection in the state journal, so
// that a crash loses at most the connections in flight. Library files are
// announced before they are written and removed only when connform can
// prove it wrote them.
//
// It neither decodes HCL nor formats output: progress leaves as Events for
// the command layer's views.
package apply
