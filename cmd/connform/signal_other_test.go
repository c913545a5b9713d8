//go:build !unix

package main

import "github.com/rogpeppe/go-internal/testscript"

// cmdSignal: only Unix has the signals scripts send; scripts that send one
// begin with "[!unix] skip", so reaching this is a script's mistake.
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	ts.Fatalf("signals are sent on Unix only: start the script with [!unix] skip")
}
