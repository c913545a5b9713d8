//go:build !unix || darwin

package main

// Windows and macOS show a browser in the user's desktop session.
func hasDisplay(*cli) bool { return true }
