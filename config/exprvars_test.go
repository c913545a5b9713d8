package config

import (
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// exprVariables must find exactly what hcl's walk finds, or checkRefs
// would let an undeclared reference through (or refuse a good one).
func TestExprVariablesIsHCLs(t *testing.T) {
	for _, src := range []string{
		`"plain"`, `42`, `true`, `null`, `var.x`, `local.a.b`, `each.key`, `"${var.x}"`, `"a ${var.x} b"`,
		`"${var.x}${local.y}"`, `"%{ if var.on }yes%{ endif }"`, `upper(var.x)`, `[var.a, "b"]`,
		`{ k = var.v }`, `var.m["k"]`, `"${each.value}"`, `x`, `"line\nnext"`, `<<EOT
text ${var.h}
EOT
`,
	} {
		expr, diags := hclsyntax.ParseExpression([]byte(src), "t.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", src, diags)
		}
		got, want := exprVariables(expr), expr.Variables()
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, hcl finds %v", src, got, want)
		}
	}
}
