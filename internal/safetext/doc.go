// Package safetext owns making text that came from outside (a token
// endpoint's error, an org's answer, a state or plan file) safe to print on
// a terminal: control characters are shown escaped instead of acting (a
// peer could otherwise clear the screen and print a fake "Apply
// complete!"), and the length is bounded. It is a package of its own
// because the strings enter in several packages (auth, dynamics, state,
// the command layer) and must all be treated the same way, at the point
// where they come in.
package safetext
