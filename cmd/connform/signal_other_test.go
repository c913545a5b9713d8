//go:build !unix

package main

import "github.com/rogpeppe/go-internal/testscript"

// cmdSignal: only Unix has the signals scripts send.
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	ts.Skip("signals are sent on Unix only")
}
