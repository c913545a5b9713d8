package config

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// binaryFile is what a mistaken build output named *.hcl looks like:
// random bytes, seeded so that a failure repeats.
func binaryFile(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return string(b)
}

func TestLoadRefusesNonText(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		opts    LoadOptions
		summary string
		at      string // file:line:column of the Subject
	}{
		{"binary file", map[string]string{"main.hcl": binaryFile(256 << 10)}, LoadOptions{}, "Not a text file", "main.hcl:1:1"},
		{"invalid UTF-8 later in the file", map[string]string{"main.hcl": body(okAttrs, "  entity = \"caf\xe9\"")}, LoadOptions{}, "Not a text file", "main.hcl:5:16"},
		{"NUL byte", map[string]string{"main.hcl": body(okAttrs) + "\x00"}, LoadOptions{}, "Not a text file", "main.hcl:6:1"},
		{"escape sequence", map[string]string{"main.hcl": "# \x1b[2J\n" + body(okAttrs)}, LoadOptions{}, "Not a text file", "main.hcl:1:3"},
		{"deep nesting", map[string]string{"main.hcl": "locals {\n  x = " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\n}\n" + body(okAttrs)}, LoadOptions{}, "Nesting too deep", "main.hcl:2:262"},
		{"too large", map[string]string{"main.hcl": body(okAttrs) + strings.Repeat("# padding\n", MaxFileSize/10+1)}, LoadOptions{}, "File too large", "main.hcl:1:1"},
		{
			"binary variables file",
			map[string]string{"main.hcl": "variable \"x\" {}\n" + body(okAttrs), "connform.vars.hcl": binaryFile(4096)},
			LoadOptions{}, "Not a text file", "connform.vars.hcl:1:1",
		},
		// Chains of operators recurse in the parser (unary) or in evaluation
		// (binary) and used to overflow the stack well under the size limit.
		{"unary operator chain", map[string]string{"main.hcl": "locals {\n  x = " + strings.Repeat("-", 1_000_000) + "1\n}\n" + body(okAttrs)}, LoadOptions{}, "Expression too long", "main.hcl:2:263"},
		{"binary operator chain", map[string]string{"main.hcl": "locals {\n  x = 1" + strings.Repeat("+1", 1_000_000) + "\n}\n" + body(okAttrs)}, LoadOptions{}, "Expression too long", "main.hcl:2:520"},
		{"operator chain across lines in parentheses", map[string]string{"main.hcl": "locals {\n  x = (1" + strings.Repeat(" +\n 1", 10_000) + ")\n}\n" + body(okAttrs)}, LoadOptions{}, "Expression too long", "main.hcl:258:4"},
		{"operator chain across lines in a list", map[string]string{"main.hcl": "locals {\n  x = [1" + strings.Repeat(" +\n 1", 10_000) + "]\n}\n" + body(okAttrs)}, LoadOptions{}, "Expression too long", "main.hcl:258:4"},
		{"operator chain inside a template", map[string]string{"main.hcl": "locals {\n  x = \"${1" + strings.Repeat("+1", 10_000) + "}\"\n}\n" + body(okAttrs)}, LoadOptions{}, "Expression too long", "main.hcl:2:523"},
		{"operator chain after a comment and a string with operators", map[string]string{"main.hcl": "locals {\n  # a - b, c = d\n  x = \"-,=\" == " + strings.Repeat("!", 1000) + "true\n}\n" + body(okAttrs)}, LoadOptions{}, "Expression too long", "main.hcl:3:271"},
		{"conditional chain", map[string]string{"main.hcl": "locals {\n  x = " + strings.Repeat("true ? 1 : ", 100_000) + "0\n}\n" + body(okAttrs)}, LoadOptions{}, "Expression too long", "main.hcl:2:2828"},
		{
			"operator chain in a -var",
			map[string]string{"main.hcl": "variable \"x\" {\n  type = number\n}\n" + body(okAttrs)},
			LoadOptions{Vars: []string{"x=" + strings.Repeat("!", 100_000) + "true"}}, "Expression too long", "<value for var.x>:1:257",
		},
		{
			"deeply nested -var",
			map[string]string{"main.hcl": "variable \"x\" {\n  type = list(any)\n}\n" + body(okAttrs)},
			LoadOptions{Vars: []string{"x=" + strings.Repeat("[", 300)}}, "Nesting too deep", "<value for var.x>:1:257",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Load(writeDir(t, tt.files), tt.opts)
			var got []string
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil {
					got = append(got, fmt.Sprintf("%s: %s:%d:%d", d.Summary, d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column))
				}
			}
			want := tt.summary + ": " + tt.at
			for _, g := range got {
				if g == want {
					return
				}
			}
			t.Fatalf("want %q among the errors, got %q", want, got)
		})
	}
}

func TestCheckTextAcceptsText(t *testing.T) {
	src := "# café ünïcode, tabs\tand CRLF\r\nlocals {\n  x = \"{[(\"\n}\n"
	if diags := checkText([]byte(src), "main.hcl"); diags.HasErrors() {
		t.Fatalf("text refused: %s", diagText(diags))
	}
	// Operators in strings are text, and each line, comma or = starts a
	// new count.
	many := "locals {\n  s = \"" + strings.Repeat("-", 10_000) + "\"\n" + strings.Repeat("  a = 1 - 2 - 3\n", 1000) + "  l = [" + strings.Repeat("1 - 1, ", 1000) + "]\n}\n"
	if diags := checkText([]byte(many), "main.hcl"); diags.HasErrors() {
		t.Fatalf("many short expressions refused: %s", diagText(diags))
	}
	chain := "x = 0" + strings.Repeat(" + 1", MaxOperators)
	if diags := checkText([]byte(chain), "main.hcl"); diags.HasErrors() {
		t.Fatalf("a chain of exactly MaxOperators refused: %s", diagText(diags))
	}
	nested := strings.Repeat("{", MaxNesting) + strings.Repeat("}", MaxNesting)
	if diags := checkText([]byte(nested), "main.hcl"); diags.HasErrors() {
		t.Fatalf("nesting of exactly MaxNesting refused: %s", diagText(diags))
	}
}

// An expression the parser could not finish used to reach AsString or True
// as an unknown value and panic; each must be one located error.
func TestLoadHalfTypedAttribute(t *testing.T) {
	tests := []struct {
		name, src, at string
	}{
		{"description", "variable \"x\" {\n  description = }\n", "main.hcl:2"},
		{"sensitive", "variable \"x\" {\n  sensitive = }\n", "main.hcl:2"},
		{"default", "variable \"x\" {\n  default = }\n", "main.hcl:2"},
		{"type", "variable \"x\" {\n  type = }\n", "main.hcl:2"},
		{"fuzz minimised", `variable"A"{description=`, "main.hcl:1"},
		{"validation message", "variable \"x\" {\n  default = \"a\"\n  validation {\n    condition = false\n    error_message = }\n  }\n}\n", "main.hcl:5"},
		{"connection attribute", body(okAttrs, "  entity = }"), "main.hcl:5"},
		{"settings", "connform {\n  state_path = }\n}\n", "main.hcl:2"},
		{"for_each", "connection \"c\" {\n  for_each = }\n" + okAttrs + "\n}\n", "main.hcl:2"},
		{"prevent_destroy", body(okAttrs, "  lifecycle {\n    prevent_destroy = }\n  }"), "main.hcl:6"},
		{"local", "locals {\n  a = }\n}\n" + body(okAttrs, "  entity = local.a"), "main.hcl:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := Load(writeDir(t, map[string]string{"main.hcl": tt.src}), LoadOptions{})
			for _, d := range diags {
				if d.Severity == hcl.DiagError && d.Subject != nil && fmt.Sprintf("%s:%d", d.Subject.Filename, d.Subject.Start.Line) == tt.at {
					return
				}
			}
			t.Fatalf("want an error at %s, got:\n%s", tt.at, diagText(diags))
		})
	}
	t.Run("variables file", func(t *testing.T) {
		dir := writeDir(t, map[string]string{"main.hcl": "variable \"x\" {}\n" + body(okAttrs), "connform.vars.hcl": "x = }\n"})
		_, diags := Load(dir, LoadOptions{})
		if findDiag(diags, "Invalid expression", "connform.vars.hcl:1") == nil {
			t.Fatalf("want an error at connform.vars.hcl:1, got:\n%s", diagText(diags))
		}
	})
}

// BenchmarkLoadBinary measures how fast a binary file named *.hcl is
// refused; before the text check it took about two minutes at 256 KiB.
func BenchmarkLoadBinary(b *testing.B) {
	dir := writeDir(b, map[string]string{"main.hcl": binaryFile(256 << 10)})
	for b.Loop() {
		if _, diags := Load(dir, LoadOptions{}); !diags.HasErrors() {
			b.Fatal("binary file accepted")
		}
	}
}

// BenchmarkLoadDeepNesting measures refusing 200 KB of nested brackets,
// which used to overflow the stack.
func BenchmarkLoadDeepNesting(b *testing.B) {
	var src bytes.Buffer
	src.WriteString("locals {\n  x = ")
	src.WriteString(strings.Repeat("{a=", 66_000))
	dir := writeDir(b, map[string]string{"main.hcl": src.String()})
	for b.Loop() {
		if _, diags := Load(dir, LoadOptions{}); !diags.HasErrors() {
			b.Fatal("deep nesting accepted")
		}
	}
}

func TestFileFunctionLimit(t *testing.T) {
	dir := writeDir(t, map[string]string{
		"main.hcl": body(okAttrs, `  description = file("big.txt")`),
		"big.txt":  strings.Repeat("x", MaxFileSize+1),
	})
	_, diags := Load(dir, LoadOptions{})
	if d := findDiag(diags, "Invalid function argument", "main.hcl:5"); d == nil || !strings.Contains(d.Detail, "larger than 8 MiB") {
		t.Fatalf("want file() to refuse a file over the limit, got:\n%s", diagText(diags))
	}
}

// A variable whose sensitive attribute does not read is treated as
// sensitive: no message quotes its value (hcl's own messages may). Since a
// syntax error stops loading before values are checked, the one error is
// the syntax error itself.
func TestUnreadableSensitiveFailsClosed(t *testing.T) {
	src := "variable \"x\" {\n  type = number\n  sensitive = }\n}\n" + body(okAttrs)
	_, diags := Load(writeDir(t, map[string]string{"main.hcl": src}), LoadOptions{Vars: []string{"x=hunter2"}})
	if findDiag(diags, "Invalid expression", "main.hcl:3") == nil {
		t.Fatalf("want the syntax error at main.hcl:3, got:\n%s", diagText(diags))
	}
	if text := diagText(diags); strings.Contains(text, "hunter2") {
		t.Fatalf("a message quotes the value of a variable that may be sensitive:\n%s", text)
	}
}

// The byte scan must never pass what the lexer refuses: on every input it
// accepts, checkOperators' lexer must accept too.
func FuzzOperatorScan(f *testing.F) {
	for _, seed := range []string{
		"x = 1 + 2\n", "x = (1 +\n 2)", "x = [1 +\n 2]", `x = "a-b" == !!true`, "# - - -\nx = 1",
		"x = 1 == 1 != 2", "x = a ? b : c ? d : e", "x = a && b || c", "x = <<EOT\n${1+1}\nEOT\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		b := []byte(strings.Repeat(src, MaxOperators/4+1))
		// checkText refuses what is not text before the operators count.
		if !utf8.Valid(b) || strings.ContainsFunc(src, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f }) {
			return
		}
		if !operatorsBelowLimit(b) {
			return
		}
		if r := operatorOverflow(b, "f.hcl"); r != nil {
			t.Fatalf("the byte scan passed %q, where the lexer counts more than %d operators (at %s)", src, MaxOperators, r)
		}
	})
}
