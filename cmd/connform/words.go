package main

import "connform/internal/words"

// count is words.Count: one way of writing counts for every layer.
var count = words.Count

// attrValue shows an attribute's value as the configuration writes it, so
// that it can be pasted back: scopes (kept space-separated, as OAuth has
// them) as a list, everything else as a quoted string.
func attrValue(name, v string) string {
	return string(appendAttrValue(nil, name, v))
}
