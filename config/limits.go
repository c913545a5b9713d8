package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Limits on what the loader hands to the HCL parser. The parser recurses
// once per nested bracket and reports every stray byte of a binary file, so
// a deeply nested or binary file could otherwise exhaust the stack (a crash,
// not an error) or take minutes; no real configuration comes near them.
// README.md documents both.
const (
	// MaxFileSize is the largest configuration or variables file read.
	MaxFileSize = 8 << 20
	// MaxNesting is how deeply brackets ({, [ and () may nest, counted
	// across the whole file.
	MaxNesting = 256
	// MaxOperators is how many operators (+ - * / % ! && || == != < > <=
	// >= ?) one expression may chain: the parser recurses once per unary
	// operator and evaluation once per binary one, so a long chain (a
	// megabyte of "-") overflows the stack as deep brackets do. A comma,
	// an equals sign or a line break outside parentheses ends the count.
	MaxOperators = 256
)

// readSource reads a configuration or variables file, refusing one larger
// than MaxFileSize without reading all of it.
func readSource(path, name string) ([]byte, hcl.Diagnostics) {
	f, err := os.Open(path)
	if err != nil {
		return nil, cannotRead(name, err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, cannotRead(name, err)
	}
	if len(src) > MaxFileSize {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "File too large",
			Detail:   fmt.Sprintf("%s is larger than %d MiB, the most connform reads as a configuration or variables file. Is it a configuration file? Give it another extension (not .hcl) if it is not.", name, MaxFileSize>>20),
			Subject:  &hcl.Range{Filename: name, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
	}
	return src, checkText(src, name)
}

func cannotRead(name string, err error) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Cannot read file",
		Detail:   fmt.Sprintf("Reading %s failed: %v. Check the path and its permissions.", name, unwrapPathErr(err)),
		Subject:  &hcl.Range{Filename: name},
	}}
}

// checkText refuses what is not configuration text before it reaches the
// parser: bytes that are not UTF-8, control characters other than tab, line
// feed and carriage return (a binary file has them; text never does), and
// brackets nested deeper than MaxNesting. The error points at the first
// offending byte.
func checkText(src []byte, name string) hcl.Diagnostics {
	pos := hcl.InitialPos
	depth := 0
	fail := func(summary, detail string) hcl.Diagnostics {
		end := pos
		end.Column++
		end.Byte++
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  summary,
			Detail:   detail,
			Subject:  &hcl.Range{Filename: name, Start: pos, End: end},
		}}
	}
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return fail("Not a text file", fmt.Sprintf("%s is not UTF-8 text (byte 0x%02x at line %d, column %d). connform reads only UTF-8 text files named *.hcl: convert the file to UTF-8, or rename it if it is not a configuration file.", name, src[i], pos.Line, pos.Column))
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			return fail("Not a text file", fmt.Sprintf("%s holds the control character U+%04X at line %d, column %d, which no configuration text has. Remove it, or rename the file if it is not a configuration file.", name, r, pos.Line, pos.Column))
		case r == '{' || r == '[' || r == '(':
			depth++
			if depth > MaxNesting {
				return fail("Nesting too deep", fmt.Sprintf("Brackets are nested more than %d deep at line %d, column %d of %s, deeper than connform reads. Flatten the expression or move parts of it into locals.", MaxNesting, pos.Line, pos.Column, name))
			}
		case r == '}' || r == ']' || r == ')':
			depth--
		}
		if r == '\n' {
			pos.Line++
			pos.Column = 1
		} else {
			pos.Column++
		}
		i += size
		pos.Byte = i
	}
	return checkOperators(src, name)
}

// checkOperators refuses an expression that chains more than MaxOperators
// operators. The lexer tells operators from text in strings and comments
// exactly, but lexing a large file costs as much as parsing it, so a byte
// scan (operatorsBelowLimit) first proves the common case safe and the
// lexer runs only when the scan cannot.
func checkOperators(src []byte, name string) hcl.Diagnostics {
	if operatorsBelowLimit(src) {
		return nil
	}
	r := operatorOverflow(src, name)
	if r == nil {
		return nil
	}
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Expression too long",
		Detail:   fmt.Sprintf("This expression chains more than %d operators (line %d of %s), more than connform reads. Split it into locals.", MaxOperators, r.Start.Line, name),
		Subject:  r,
	}}
}

// operatorOverflow returns where, by the lexer's tokens, an expression
// first chains more than MaxOperators operators, or nil.
func operatorOverflow(src []byte, name string) *hcl.Range {
	toks, _ := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	var open []hclsyntax.TokenType // the brackets around the current token
	count := 0
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			open = append(open, t.Type)
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case hclsyntax.TokenComma, hclsyntax.TokenEqual:
			count = 0
		case hclsyntax.TokenNewline, hclsyntax.TokenComment:
			// A line comment takes its line break with it.
			if !continuesOverLines(open) && (t.Type == hclsyntax.TokenNewline || bytes.HasSuffix(t.Bytes, []byte("\n"))) {
				count = 0
			}
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent,
			hclsyntax.TokenBang, hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual,
			hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq,
			hclsyntax.TokenQuestion:
			count++
			if count > MaxOperators {
				r := t.Range
				return &r
			}
		}
	}
	return nil
}

// continuesOverLines reports whether a line break inside these brackets
// continues the expression: inside parentheses and list brackets HCL reads
// on, while elsewhere a line break ends it.
func continuesOverLines(open []hclsyntax.TokenType) bool {
	if len(open) == 0 {
		return false
	}
	inner := open[len(open)-1]
	return inner == hclsyntax.TokenOParen || inner == hclsyntax.TokenOBrack
}

// operatorsBelowLimit is a byte scan that never counts fewer operators than
// checkOperators' lexer would: it counts operator bytes (so && is two),
// resets where the lexer resets (a comma, an assignment's =, a line break
// outside ( and [), skips quoted strings and # and // comments, and gives
// up (false: let the lexer decide) on what it does not follow: template
// sequences, heredocs, block comments and escapes.
func operatorsBelowLimit(src []byte) bool {
	var open []byte
	count := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			for i++; i < len(src) && src[i] != '"'; i++ {
				switch {
				case src[i] == '\\', src[i] == '\n':
					return false
				case (src[i] == '$' || src[i] == '%') && i+1 < len(src) && src[i+1] == '{':
					return false
				}
			}
		case '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case '(', '[', '{':
			open = append(open, c)
		case ')', ']', '}':
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		case ',':
			count = 0
		case '\n':
			if len(open) == 0 || open[len(open)-1] == '{' {
				count = 0
			}
		case '=':
			prev := byte(0)
			if i > 0 {
				prev = src[i-1]
			}
			if prev == '=' || prev == '!' || prev == '<' || prev == '>' || i+1 < len(src) && src[i+1] == '=' {
				count++
			} else {
				count = 0
			}
		case '/':
			if i+1 < len(src) && src[i+1] == '/' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				i--
				continue
			}
			if i+1 < len(src) && src[i+1] == '*' {
				return false
			}
			count++
		case '<':
			if i+1 < len(src) && src[i+1] == '<' {
				return false
			}
			count++
		case '+', '-', '*', '%', '!', '&', '|', '>', '?':
			count++
		}
		if count > MaxOperators {
			return false
		}
	}
	return true
}
