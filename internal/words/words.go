// Package words owns how counts are written in messages, so every layer
// that speaks to people says "1 connection", "2 connections", never
// "connection(s)".
package words

import "fmt"

// Count says how many things there are in words. many is the plural for a
// word that does not just take an s ("entry", "entries").
func Count(n int, one string, many ...string) string {
	switch {
	case n == 1:
		return "1 " + one
	case len(many) > 0:
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}
