package main

import (
	"fmt"
	"strconv"
	"strings"
)

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
	// strconv.Quote is what %q does for a string, without fmt's cost: a
	// plan of 10,000 connections quotes 100,000 values.
	if name != "scopes" {
		return strconv.Quote(v)
	}
	quoted := []string{}
	for _, s := range strings.Fields(v) {
		quoted = append(quoted, strconv.Quote(s))
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}
