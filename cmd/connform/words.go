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
	return fmt.Sprintf("%d %s%s", n, one, plural(n))
}

// attrValue shows an attribute's value as the configuration writes it, so
// that it can be pasted back: scopes (kept space-separated, as OAuth has
// them) as a list, everything else as a quoted string.
func attrValue(name, v string) string {
	return string(appendAttrValue(nil, name, v))
}
