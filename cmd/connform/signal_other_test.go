//go:build !unix

package main

import "github.com/rogpeppe/go-internal/testscript"

// cmdSignal: only Unix has the signals scripts send; the scripts that use
// it are guarded with [!unix] skip, so reaching here is a script's mistake.
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	ts.Fatalf("signal: signals are sent on Unix only; guard the script with [!unix] skip")
}
