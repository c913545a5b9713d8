package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits for the common cases: a one-line field (a name, an id, a code)
// and a message (an error description).
const (
	FieldMax   = 256
	MessageMax = 2000
)

// Line returns s fit for one line of output: every control character,
// line breaks and tabs included, is shown as an escape (\x1b, \n, \u009b,
// \u202e), an invalid byte as \xNN, and the text is cut after max bytes.
func Line(s string, max int) string { return clean(s, max, false) }

// Text is Line for a message meant to span lines: \n and \t are kept.
func Text(s string, max int) string { return clean(s, max, true) }

// Safe reports whether s would print as it is under Text: nothing to
// escape. Callers that only need to check use it.
func Safe(s string) bool {
	for i, r := range s {
		if r < utf8.RuneSelf {
			// ASCII, nearly every byte connform reads: only controls
			// escape, and unicode.Is need not be asked.
			if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
				return false
			}
			continue
		}
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return false
			}
		}
		if r != '\n' && r != '\t' && escaped(r) {
			return false
		}
	}
	return true
}

func clean(s string, max int, multiline bool) string {
	if max <= 0 {
		max = MessageMax
	}
	if len(s) <= max && printableASCII(s) {
		// Nothing to escape or cut: s as it is, without building a copy.
		// A state of 10,000 connections holds 200,000 such strings.
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if b.Len() >= max {
			fmt.Fprintf(&b, "… (%d more bytes)", len(s)-i)
			break
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case multiline && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case escaped(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// escaped reports whether r must not reach a terminal as it is: C0 and C1
// controls and DEL act on the terminal; format characters (bidirectional
// overrides, zero-width joiners and spaces) make text read differently from
// what it is.
func escaped(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) ||
		r == '\u2028' || r == '\u2029'
}

// printableASCII reports whether s is printable ASCII only, which clean
// leaves as it is.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
