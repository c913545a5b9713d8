package main

import "fmt"

// count says how many things there are in words, as a person writes it:
// "1 connection", "2 connections", never "connection(s)". many is the
// plural for a word that does not just take an s ("entry", "entries").
func count(n int, one string, many ...string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}
