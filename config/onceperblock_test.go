package config

import (
	"bytes"
	"strings"
	"testing"
)

// A mistake in a for_each block is one error, not one per instance.
func TestOneErrorPerBlock(t *testing.T) {
	tests := []struct {
		name, attrs, summary string
	}{
		{"loopback url without endpoints", `  url = "http://127.0.0.1:8400"
  tenant_id = "t"
  client_id = "app"`, "No sign-in endpoints for a loopback org"},
		{"placeholder tenant", `  url = "https://contoso-${each.key}.crm4.dynamics.com"
  tenant_id = "00000000-0000-0000-0000-000000000000"
  client_id = "app"`, "Placeholder tenant_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "connection \"crm\" {\n  for_each = toset([\"dev\", \"test\", \"prod\"])\n" + tt.attrs + "\n}\n"
			_, diags := Load(writeDir(t, map[string]string{"main.hcl": src}), LoadOptions{})
			n := 0
			for _, d := range diags {
				if d.Summary == tt.summary {
					n++
					if strings.Contains(d.Detail, `["dev"]`) {
						t.Errorf("the block's error names one instance: %s", d.Detail)
					}
				}
			}
			if n != 1 {
				t.Fatalf("%d %q errors, want 1:\n%s", n, tt.summary, diagText(diags))
			}
		})
	}
}

// A -var value that does not parse says which variable and which source,
// and the printed diagnostic has no "(source code not available)".
func TestVarValueErrorNamesTheOption(t *testing.T) {
	tests := []struct {
		name, typ, value, want string
	}{
		{"bare word for a number", "number", "abc", "The value for var.x from -var is not a valid HCL value of type number (Variables not allowed: Variables may not be used here). Write it as HCL, e.g. 42. A bare word reads as a reference in HCL; quote a string that is part of the value."},
		{"unclosed list", "list(string)", `["a"`, "The value for var.x from -var is not a valid HCL value of type list(string) (Unterminated tuple constructor expression"},
		{"wrong type", "bool", `[1]`, "The value for var.x from -var does not match its type bool: bool required, but have tuple."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, map[string]string{"main.hcl": "variable \"x\" {\n  type = " + tt.typ + "\n}\n" + body(okAttrs)})
			cfg, diags := Load(dir, LoadOptions{Vars: []string{"x=" + tt.value}})
			if len(diags) != 1 || !strings.HasPrefix(diags[0].Detail, tt.want) {
				t.Fatalf("want one error starting %q, got:\n%s", tt.want, diagText(diags))
			}
			var out bytes.Buffer
			if err := WriteDiagnostics(&out, cfg.Files, diags, 0, false); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), "source code not available") || strings.Contains(out.String(), "<value for") {
				t.Fatalf("printed as if from a file:\n%s", out.String())
			}
		})
	}
}
