//go:build !windows && !darwin

package main

// osHome is the XDG rule on Linux, the BSDs and any other system that is
// neither Windows nor macOS.
func osHome(env []string) (string, error) { return xdgHome(envLookup(env, false)) }
