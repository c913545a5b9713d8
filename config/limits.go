package config

import (
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
// operators. It reads the lexer's tokens, which come from a loop rather than
// recursion, so strings (where "-" is no operator) are told apart safely.
func checkOperators(src []byte, name string) hcl.Diagnostics {
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
		case hclsyntax.TokenNewline:
			// Inside parentheses a line break continues the expression.
			if len(open) == 0 || open[len(open)-1] != hclsyntax.TokenOParen {
				count = 0
			}
		case hclsyntax.TokenPlus, hclsyntax.TokenMinus, hclsyntax.TokenStar, hclsyntax.TokenSlash, hclsyntax.TokenPercent,
			hclsyntax.TokenBang, hclsyntax.TokenAnd, hclsyntax.TokenOr, hclsyntax.TokenEqualOp, hclsyntax.TokenNotEqual,
			hclsyntax.TokenLessThan, hclsyntax.TokenLessThanEq, hclsyntax.TokenGreaterThan, hclsyntax.TokenGreaterThanEq,
			hclsyntax.TokenQuestion:
			count++
			if count > MaxOperators {
				r := t.Range
				return hcl.Diagnostics{{
					Severity: hcl.DiagError,
					Summary:  "Expression too long",
					Detail:   fmt.Sprintf("This expression chains more than %d operators (line %d of %s), more than connform reads. Split it into locals.", MaxOperators, r.Start.Line, name),
					Subject:  &r,
				}}
			}
		}
	}
	return nil
}
