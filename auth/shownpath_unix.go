//go:build !windows

package auth

import "os"

// tildePath is p with the home folder shown as "~", as every Unix shell
// reads it back.
func tildePath(p string) string {
	home, _ := os.UserHomeDir()
	return underHome(p, home)
}
